package stock

import (
	"cmp"
	"slices"
)

// The arithmetic of sharded items (see doc.go), kept pure so that it is tested without a backend.
// A sharded item's available units sit either in one of its shards (free[i]) or unallocated in
// its header (pool). Shards 0…k-1 are live; shards from k to len(free)-1 are retired by a smaller
// SetShards and only hold reservations made before it (their free units move to the pool).

// Take is what one reservation need holds on one shard.
type Take struct {
	Shard    int   `json:"shard"`
	Quantity int64 `json:"quantity"` // units reserved on the shard
	// FromPool is the part of Quantity drawn from the unallocated pool instead of the shard's free
	// units (only while planning; records keep Shard and Quantity).
	FromPool int64 `json:"-"`
}

// Available returns the units a sharded item can still promise: every shard's free units plus a
// positive pool.
func Available(free []int64, pool int64) int64 {
	n := max(0, pool)
	for _, f := range free {
		n += f
	}
	return n
}

// PlanTake plans reserving q units. It starts at shard start (chosen at random by the caller, so
// that concurrent reservations spread over the shards), probes the other live shards in turn and
// then the retired ones, taking free units from each, and draws what is still missing from the
// pool, booked on shard start. ok is false, with no takes, when the item cannot give q units.
// Takes are in probe order, one per shard.
func PlanTake(free []int64, pool int64, k, start int, q int64) (takes []Take, ok bool) {
	if q <= 0 || k <= 0 || start < 0 || start >= k || k > len(free) || Available(free, pool) < q {
		return nil, false
	}
	rem := q
	for _, i := range probeOrder(len(free), k, start) {
		if rem == 0 {
			break
		}
		if t := min(free[i], rem); t > 0 {
			takes = append(takes, Take{Shard: i, Quantity: t})
			rem -= t
		}
	}
	if rem > 0 { // Available ≥ q, so the pool covers the rest
		j := slices.IndexFunc(takes, func(t Take) bool { return t.Shard == start })
		if j < 0 {
			takes = append(takes, Take{Shard: start})
			j = len(takes) - 1
		}
		takes[j].Quantity += rem
		takes[j].FromPool = rem
	}
	return takes, true
}

// probeOrder lists the shards a reservation starting at start tries: start … k-1, 0 … start-1,
// then the retired shards k … n-1.
func probeOrder(n, k, start int) []int {
	out := make([]int, 0, n)
	for i := range k {
		out = append(out, (start+i)%k)
	}
	for i := k; i < n; i++ {
		out = append(out, i)
	}
	return out
}

// FairShare is the free units each live shard would hold if the item's available units were
// spread evenly over its k live shards (rounded down).
func FairShare(free []int64, pool int64, k int) int64 {
	if k <= 0 {
		return 0
	}
	return Available(free, pool) / int64(k)
}

// PlanRefill plans the rebalance that a dry shard triggers: it brings shard target up to the fair
// share, first from the pool, then from retired shards (all their free units), then from the live
// shards holding the most free units, each down to no less than the fair share. At most
// maxDonors shards give. Nothing moves when target already holds the fair share or when the
// fair share is 0 (the last units are left where they are: probing finds them, and moving single
// units around would cost more writes than it saves).
func PlanRefill(free []int64, pool int64, k, target, maxDonors int) (fromPool int64, donors []Take) {
	fair := FairShare(free, pool, k)
	if fair == 0 || target < 0 || target >= k || free[target] >= fair {
		return 0, nil
	}
	return gather(free, pool, k, target, fair-free[target], fair, maxDonors)
}

// PlanGather plans moving want units into shard target, from the pool first and then from the
// other shards with the most free units (emptying them if need be). It is used when one need
// would otherwise be split over too many shards for one transaction.
func PlanGather(free []int64, pool int64, k, target int, want int64, maxDonors int) (fromPool int64, donors []Take) {
	if target < 0 || target >= k || want <= 0 {
		return 0, nil
	}
	return gather(free, pool, k, target, want, 0, maxDonors)
}

func gather(free []int64, pool int64, k, target int, need, keep int64, maxDonors int) (fromPool int64, donors []Take) {
	fromPool = min(max(0, pool), need)
	need -= fromPool
	order := make([]int, 0, len(free))
	for i := range free {
		if i != target {
			order = append(order, i)
		}
	}
	// Retired shards first, then the fullest live shards.
	slices.SortStableFunc(order, func(a, b int) int {
		if ra, rb := a >= k, b >= k; ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return cmp.Compare(free[b], free[a])
	})
	for _, i := range order {
		if need == 0 || len(donors) >= maxDonors {
			break
		}
		floor := keep
		if i >= k {
			floor = 0
		}
		if give := min(free[i]-floor, need); give > 0 {
			donors = append(donors, Take{Shard: i, Quantity: give})
			need -= give
		}
	}
	return fromPool, donors
}

// PlanReclaim plans taking n available units away (a lower count, a write-off, a higher safety
// stock): from the pool first, then from the shards with the most free units. rest is what neither
// could give: the caller leaves the pool that much lower (negative), after taking every free unit.
func PlanReclaim(free []int64, pool int64, n int64) (fromPool int64, fromShards []Take, rest int64) {
	fromPool = min(max(0, pool), n)
	n -= fromPool
	order := make([]int, len(free))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(free[b], free[a]) })
	for _, i := range order {
		if n == 0 {
			break
		}
		if t := min(free[i], n); t > 0 {
			fromShards = append(fromShards, Take{Shard: i, Quantity: t})
			n -= t
		}
	}
	return fromPool, fromShards, n
}

// Spread splits n units over k shards as evenly as possible, the remainder going to the first
// shards. n ≤ 0 gives k zeros.
func Spread(n int64, k int) []int64 {
	out := make([]int64, k)
	if n <= 0 || k <= 0 {
		return out
	}
	each, extra := n/int64(k), n%int64(k)
	for i := range out {
		out[i] = each
		if int64(i) < extra {
			out[i]++
		}
	}
	return out
}
