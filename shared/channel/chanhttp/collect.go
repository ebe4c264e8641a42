package chanhttp

import (
	"context"
	"sync"

	"orderhub/shared/order"
)

// Collector gathers what a Pull emits, keeping the newest version of each order, for tests and
// tools that look at a window's orders without a store.
type Collector struct {
	mu     sync.Mutex
	orders map[string]order.Order
	emits  int
}

// Emit is the emit function to hand to Pull.
func (c *Collector) Emit(_ context.Context, o order.Order) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.orders == nil {
		c.orders = map[string]order.Order{}
	}
	c.emits++
	if prev, ok := c.orders[o.ChannelOrderID]; !ok || o.Version.After(prev.Version) {
		c.orders[o.ChannelOrderID] = o
	}
	return nil
}

// Orders returns the newest version of every order emitted, by channel order id.
func (c *Collector) Orders() map[string]order.Order {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]order.Order, len(c.orders))
	for k, v := range c.orders {
		out[k] = v
	}
	return out
}

// Emits returns how many times Emit was called.
func (c *Collector) Emits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.emits
}
