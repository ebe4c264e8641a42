package dynamo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/store"
)

// List returns one page of orders matching f, newest id first. A text query goes through direct
// key lookups; every other filter is served by one index (see plan), whose candidate ids are then
// read from the table (strongly consistent) and checked against the whole filter again, because
// index entries lag their items slightly.
func (s *Store) List(ctx context.Context, f store.Filter) (store.Page, error) {
	after, err := decodeCursor(f.Cursor)
	if err != nil {
		return store.Page{}, err
	}
	limit := f.PageSize()
	if f.Query != "" {
		found, err := s.lookup(ctx, f.Query)
		if err != nil {
			return store.Page{}, err
		}
		var matched []order.Order
		for _, o := range found {
			if matches(o, f, true) && (after == "" || o.ID < after) {
				matched = append(matched, o)
			}
		}
		slices.SortFunc(matched, func(a, b order.Order) int { return strings.Compare(b.ID, a.ID) })
		return page(matched, limit), nil
	}

	p := planFor(f, true)
	m := s.newMerger(p, f, true, after, queryLimit(p, f, limit))
	var accepted []order.Order
	for len(accepted) <= limit {
		var ids []string
		for len(ids) < limit+1-len(accepted) {
			id, ok, err := m.next(ctx)
			if err != nil {
				return store.Page{}, err
			}
			if !ok {
				break
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			break
		}
		docs, err := s.batchGet(ctx, ids)
		if err != nil {
			return store.Page{}, err
		}
		for _, id := range ids {
			if o, ok := docs[id]; ok && matches(o, f, true) {
				accepted = append(accepted, o)
			}
		}
	}
	return page(accepted, limit), nil
}

// Counts returns the number of orders per status matching f (statuses with none are left out).
// Status-partitioned plans count with Select COUNT; the others read only each entry's status.
// Counts come from the index, so an order changed in the last moment may be counted as before.
func (s *Store) Counts(ctx context.Context, f store.Filter) (map[order.Status]int, error) {
	f.Statuses, f.Cursor, f.Limit = nil, "", 0
	out := map[order.Status]int{}
	if f.Query != "" {
		found, err := s.lookup(ctx, f.Query)
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if matches(o, f, false) {
				out[o.Status]++
			}
		}
		return out, nil
	}

	p := planFor(f, false)
	counts := make([]map[order.Status]int, len(p.parts))
	err := parallel(len(p.parts), func(i int) error {
		counts[i] = map[order.Status]int{}
		in := queryInput(s.tables.Orders, p, i, f, false, "")
		if p.attr == attrStatus {
			in.Select = types.SelectCount
		} else {
			in.ProjectionExpression = aws.String("#st")
			in.ExpressionAttributeNames["#st"] = attrStatus
		}
		pg := dynamodb.NewQueryPaginator(s.db, in)
		for pg.HasMorePages() {
			res, err := pg.NextPage(ctx)
			if err != nil {
				return unavailable("Query", err)
			}
			if p.attr == attrStatus {
				counts[i][order.Status(p.parts[i])] += int(res.Count)
				continue
			}
			for _, item := range res.Items {
				counts[i][order.Status(strAttr(item, attrStatus))]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		for st, n := range c {
			if n > 0 {
				out[st] += n
			}
		}
	}
	return out, nil
}

// plan says which index serves a filter and which of its partitions to read.
type plan struct {
	index string
	attr  string   // the index's partition key attribute
	parts []string // partition values; several are merged by id
}

// planFor picks the index that reads the fewest entries for f: a supplier's or a warehouse's
// orders are a small, always-filtered set; a status filter reads only those statuses' partitions,
// which for the statuses the ops board asks about (paid, held, routed…) are far smaller than a
// shop's whole history; a shop alone reads the shop's partition newest first and stops at a page;
// no filter at all merges the status partitions (there is no index with one constant partition,
// which would funnel every order write through one partition).
func planFor(f store.Filter, withStatuses bool) plan {
	switch {
	case f.Supplier != "":
		return plan{indexSupplier, attrSupplier, []string{f.Supplier}}
	case f.Warehouse != "":
		return plan{indexWarehouse, attrWarehouse, []string{f.Warehouse}}
	case withStatuses && len(f.Statuses) > 0:
		var parts []string
		for _, st := range f.Statuses {
			if !slices.Contains(parts, string(st)) {
				parts = append(parts, string(st))
			}
		}
		return plan{indexStatus, attrStatus, parts}
	case f.Shop != "":
		return plan{indexShop, attrShop, []string{f.Shop}}
	}
	var parts []string
	for _, st := range order.Statuses() {
		parts = append(parts, string(st))
	}
	return plan{indexStatus, attrStatus, parts}
}

// queryInput builds the Query of partition i of p, with f's other fields as a filter expression on
// the attributes every index projects. after, when set, starts below that order id.
func queryInput(table string, p plan, i int, f store.Filter, withStatuses bool, after string) *dynamodb.QueryInput {
	names := map[string]string{"#p": p.attr}
	values := map[string]types.AttributeValue{":p": str(p.parts[i])}
	key := "#p = :p"
	if after != "" {
		names["#id"] = attrID
		values[":after"] = str(after)
		key += " AND #id < :after"
	}
	var conds []string
	eq := func(attr, val string) {
		if val == "" || attr == p.attr {
			return
		}
		names["#"+attr] = attr
		values[":"+attr] = str(val)
		conds = append(conds, fmt.Sprintf("#%s = :%s", attr, attr))
	}
	eq(attrChannel, string(f.Channel))
	eq(attrShop, f.Shop)
	eq(attrWarehouse, f.Warehouse)
	eq(attrSupplier, f.Supplier)
	if withStatuses && len(f.Statuses) > 0 && p.attr != attrStatus {
		names["#status"] = attrStatus
		var in []string
		for j, st := range f.Statuses {
			values[fmt.Sprintf(":st%d", j)] = str(string(st))
			in = append(in, fmt.Sprintf(":st%d", j))
		}
		conds = append(conds, "#status IN ("+strings.Join(in, ", ")+")")
	}
	if !f.CreatedFrom.IsZero() {
		names["#cr"] = attrCreated
		values[":from"] = num(nanos(f.CreatedFrom))
		conds = append(conds, "#cr >= :from")
	}
	if !f.CreatedTo.IsZero() {
		names["#cr"] = attrCreated
		values[":to"] = num(nanos(f.CreatedTo))
		conds = append(conds, "#cr < :to")
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(p.index),
		KeyConditionExpression:    aws.String(key),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(false),
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	return in
}

// queryLimit is how many index entries one Query reads for a page of limit orders: exactly enough
// to know whether a next page exists when nothing is filtered out, more when a filter expression
// may drop entries (index entries are small, so this costs little and saves round trips).
func queryLimit(p plan, f store.Filter, limit int) int32 {
	in := queryInput("", p, 0, f, true, "")
	if in.FilterExpression == nil {
		return int32(limit + 1)
	}
	return int32(min(4*(limit+1), 1000))
}

// stream reads one index partition newest id first, a page at a time.
type stream struct {
	in   *dynamodb.QueryInput
	buf  []string
	lek  map[string]types.AttributeValue
	done bool
}

func (st *stream) fill(ctx context.Context, db *dynamodb.Client) error {
	for len(st.buf) == 0 && !st.done {
		in := *st.in
		in.ExclusiveStartKey = st.lek
		out, err := db.Query(ctx, &in)
		if err != nil {
			return unavailable("Query", err)
		}
		for _, item := range out.Items {
			st.buf = append(st.buf, strAttr(item, attrID))
		}
		st.lek = out.LastEvaluatedKey
		st.done = len(st.lek) == 0
	}
	return nil
}

// merger merges the partitions of a plan into one stream of ids, newest first.
type merger struct {
	db      *dynamodb.Client
	streams []*stream
	last    string
}

func (s *Store) newMerger(p plan, f store.Filter, withStatuses bool, after string, limit int32) *merger {
	m := &merger{db: s.db}
	for i := range p.parts {
		in := queryInput(s.tables.Orders, p, i, f, withStatuses, after)
		in.Limit = aws.Int32(limit)
		in.ProjectionExpression = aws.String("#oid")
		in.ExpressionAttributeNames["#oid"] = attrID
		m.streams = append(m.streams, &stream{in: in})
	}
	return m
}

// next returns the next id, or false when every partition is exhausted. Partitions that need
// their next page are read concurrently.
func (m *merger) next(ctx context.Context) (string, bool, error) {
	for {
		var empty []*stream
		for _, st := range m.streams {
			if len(st.buf) == 0 && !st.done {
				empty = append(empty, st)
			}
		}
		if err := parallel(len(empty), func(i int) error { return empty[i].fill(ctx, m.db) }); err != nil {
			return "", false, err
		}
		var best *stream
		for _, st := range m.streams {
			if len(st.buf) > 0 && (best == nil || st.buf[0] > best.buf[0]) {
				best = st
			}
		}
		if best == nil {
			return "", false, nil
		}
		id := best.buf[0]
		best.buf = best.buf[1:]
		// While an index catches up with a status change, an order may briefly sit in two status
		// partitions; merged output is sorted, so such a duplicate is adjacent.
		if id == m.last {
			continue
		}
		m.last = id
		return id, true, nil
	}
}

// batchGet reads the orders with the given ids (strongly consistent), in chunks of 100.
func (s *Store) batchGet(ctx context.Context, ids []string) (map[string]order.Order, error) {
	out := make(map[string]order.Order, len(ids))
	for chunk := range slices.Chunk(ids, 100) {
		keys := make([]map[string]types.AttributeValue, 0, len(chunk))
		seen := map[string]bool{}
		for _, id := range chunk {
			if !seen[id] && id != "" {
				seen[id] = true
				keys = append(keys, orderKey(id))
			}
		}
		req := map[string]types.KeysAndAttributes{s.tables.Orders: {
			Keys: keys, ConsistentRead: aws.Bool(true),
			ProjectionExpression:     aws.String("#doc, #rev"),
			ExpressionAttributeNames: map[string]string{"#doc": attrDoc, "#rev": attrRev},
		}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if attempt >= maxAttempts {
					return nil, unavailable("BatchGetItem", fmt.Errorf("keys still unprocessed after %d attempts", attempt))
				}
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, unavailable("BatchGetItem", err)
			}
			for _, item := range res.Responses[s.tables.Orders] {
				o, err := decodeMeta(item)
				if err != nil {
					return nil, unavailable("BatchGetItem", err)
				}
				out[o.ID] = o
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// lookup finds the orders whose id, channel order id or tracking number is q, each by a direct
// key lookup: the order's META item, the key items partitioned by channel order id, and the
// tracking-number items.
func (s *Store) lookup(ctx context.Context, q string) ([]order.Order, error) {
	if len(q) > 1024 { // longer than any id, channel order id or tracking number; DynamoDB keys are ≤ 2 KB
		return nil, nil
	}
	var found []order.Order
	item, err := s.getItem(ctx, s.tables.Orders, orderKey(q))
	if err != nil {
		return nil, err
	}
	if item != nil {
		o, err := decodeMeta(item)
		if err != nil {
			return nil, unavailable("GetItem", err)
		}
		found = append(found, o)
	}
	var ids []string
	for _, pk := range []string{prefixKey + q, prefixTrack + q} {
		pg := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
			TableName:                 aws.String(s.tables.Orders),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
			ConsistentRead:            aws.Bool(true),
		})
		for pg.HasMorePages() {
			res, err := pg.NextPage(ctx)
			if err != nil {
				return nil, unavailable("Query", err)
			}
			for _, it := range res.Items {
				if id := strAttr(it, attrID); id != "" && id != q && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) == 0 {
		return found, nil
	}
	docs, err := s.batchGet(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if o, ok := docs[id]; ok {
			found = append(found, o)
		}
	}
	return found, nil
}

// matches reports whether o passes f (its statuses only when withStatuses).
func matches(o order.Order, f store.Filter, withStatuses bool) bool {
	switch {
	case f.Channel != "" && o.Channel != f.Channel,
		f.Shop != "" && o.Shop != f.Shop,
		f.Warehouse != "" && o.Warehouse != f.Warehouse,
		f.Supplier != "" && o.Supplier != f.Supplier,
		withStatuses && len(f.Statuses) > 0 && !slices.Contains(f.Statuses, o.Status),
		!f.CreatedFrom.IsZero() && o.CreatedAt.Before(f.CreatedFrom),
		!f.CreatedTo.IsZero() && !o.CreatedAt.Before(f.CreatedTo):
		return false
	}
	return true
}

// page cuts a newest-first list of matches (at most limit+1 long) into a page and its cursor.
func page(orders []order.Order, limit int) store.Page {
	if len(orders) <= limit {
		return store.Page{Orders: orders}
	}
	orders = orders[:limit]
	return store.Page{Orders: orders, Next: encodeCursor(orders[limit-1].ID)}
}

// cursor is a keyset position: the id of the last order of the previous page. The next page
// starts strictly below it, so orders created while a client pages neither repeat nor shift
// entries, and one cursor format serves every index (all are sorted by id).
type cursor struct {
	After string `json:"after"`
}

func encodeCursor(id string) string {
	b, _ := json.Marshal(cursor{After: id}) // a struct of one string always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := func(why string) (string, error) { return "", fault.With(store.ErrInvalidCursor, "%s", why) }
	if len(s) > 1024 {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() {
		return bad("not a cursor")
	}
	if c.After == "" || len(c.After) > 256 || !utf8.ValidString(c.After) {
		return bad("not a cursor")
	}
	return c.After, nil
}

// parallel runs fn(0) … fn(n-1) concurrently and returns the first error.
func parallel(n int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
