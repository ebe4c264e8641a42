package chanhttp

import (
	"sync"
	"time"
)

// SimMarket is the simulator a sandbox marketplace serves, with the lock that guards it. Sandboxes
// embed it, so its clock methods are theirs, and hold Mu whenever they read or change Sim.
type SimMarket struct {
	Mu  sync.Mutex
	Sim *Sim
}

// Now returns the sandbox clock.
func (m *SimMarket) Now() time.Time {
	m.Mu.Lock()
	defer m.Mu.Unlock()
	return m.Sim.Now()
}

// Advance moves the clock by d: orders are placed, paid, shipped, received, cancelled and refunded.
func (m *SimMarket) Advance(d time.Duration) {
	m.Mu.Lock()
	defer m.Mu.Unlock()
	m.Sim.Advance(d)
}

// Tick advances the clock to the real time, for local runs where the marketplace lives in real
// time: call it periodically (or before answering) and orders appear as time passes.
func (m *SimMarket) Tick() {
	m.Mu.Lock()
	defer m.Mu.Unlock()
	m.Sim.AdvanceTo(time.Now())
}

// Shipments returns the shipments written back, in the order they arrived.
func (m *SimMarket) Shipments() []SimShipment {
	m.Mu.Lock()
	defer m.Mu.Unlock()
	return m.Sim.Shipments()
}
