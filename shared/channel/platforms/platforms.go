// Package platforms is the catalogue of the connectors the hub knows: for each channel, how to build
// its connector for a configured shop and how to start its sandbox marketplace (tests, `make run`).
package platforms

import (
	"context"
	"net/http"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/douyin"
	"orderhub/shared/channel/jd"
	"orderhub/shared/channel/pdd"
	"orderhub/shared/channel/sandbox"
	"orderhub/shared/channel/shopee"
	"orderhub/shared/channel/shopify"
	"orderhub/shared/channel/taobao"
	"orderhub/shared/channel/woocommerce"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Sandbox is a running sandbox marketplace, whatever its platform.
type Sandbox interface {
	http.Handler
	// Advance moves the sandbox clock: orders are placed, paid, shipped, cancelled and refunded.
	Advance(d time.Duration)
	// Now is the sandbox clock; connectors and pollers of its shop use it as the platform's clock.
	Now() time.Time
	// Shop is the shop configuration that talks to the sandbox served at baseURL.
	Shop(id, baseURL string) channel.Shop
	// PushAll sends every pending push to url (nil for platforms that do not push).
	PushAll(ctx context.Context, client *http.Client, url string) (int, error)
	// Pushes reports whether the platform pushes order changes.
	Pushes() bool
	// Faults arms failures: a failing page, a rate-limit answer, dropped pushes.
	Faults() *sandbox.Faults
}

// Platform is one channel's connector and sandbox.
type Platform struct {
	Channel    order.Channel
	New        func(channel.Shop, channel.Deps) (channel.Connector, error)
	NewSandbox func(seed uint64, start time.Time) Sandbox
}

// ErrUnknownPlatform is returned for a channel no connector serves.
var ErrUnknownPlatform = fault.New(fault.Invalid, "unknown_platform", "no connector for this channel")

// All lists every platform with a connector.
func All() []Platform {
	return []Platform{
		{order.Taobao, conn(taobao.New), func(seed uint64, start time.Time) Sandbox {
			s := taobao.NewSandbox(taobao.SandboxConfig{Seed: seed, Start: start})
			return pulled{s, order.Taobao, s.Faults}
		}},
		{order.JD, conn(jd.New), func(seed uint64, start time.Time) Sandbox {
			s := jd.NewSandbox(jd.SandboxConfig{Seed: seed, Start: start})
			return pulled{s, order.JD, s.Faults}
		}},
		{order.Pinduoduo, conn(pdd.New), func(seed uint64, start time.Time) Sandbox {
			s := pdd.NewSandbox(pdd.SandboxConfig{Seed: seed, Start: start})
			return pulled{s, order.Pinduoduo, s.Faults}
		}},
		{order.Douyin, conn(douyin.New), func(seed uint64, start time.Time) Sandbox {
			s := douyin.NewSandbox(douyin.SandboxConfig{Seed: seed, Start: start})
			return pushed{s, s.Faults}
		}},
		{order.Shopee, conn(shopee.New), func(seed uint64, start time.Time) Sandbox {
			s := shopee.NewSandbox(shopee.SandboxConfig{Seed: seed, Start: start})
			return pushed{s, s.Faults}
		}},
		{order.Shopify, conn(shopify.New), func(seed uint64, start time.Time) Sandbox {
			s := shopify.NewSandbox(shopify.SandboxConfig{Seed: seed, Start: start})
			return pushed{s, s.Faults}
		}},
		{order.WooCommerce, conn(woocommerce.New), func(seed uint64, start time.Time) Sandbox {
			s := woocommerce.NewSandbox(woocommerce.SandboxConfig{Seed: seed, Start: start})
			return pushed{s, s.Faults}
		}},
	}
}

// Lookup returns the platform of a channel.
func Lookup(c order.Channel) (Platform, error) {
	for _, p := range All() {
		if p.Channel == c {
			return p, nil
		}
	}
	return Platform{}, fault.With(ErrUnknownPlatform, "%q", string(c))
}

// conn adapts a platform's typed constructor to the contract.
func conn[C channel.Connector](newFn func(channel.Shop, channel.Deps) (C, error)) func(channel.Shop, channel.Deps) (channel.Connector, error) {
	return func(s channel.Shop, d channel.Deps) (channel.Connector, error) {
		c, err := newFn(s, d)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// pushingSandbox is what the sandboxes of pushing platforms offer.
type pushingSandbox interface {
	http.Handler
	Advance(d time.Duration)
	Now() time.Time
	Shop(id, baseURL string) channel.Shop
	PushAll(ctx context.Context, client *http.Client, url string) (int, error)
}

type pushed struct {
	pushingSandbox
	faults *sandbox.Faults
}

func (pushed) Pushes() bool { return true }

func (p pushed) Faults() *sandbox.Faults { return p.faults }

// pullOnlySandbox is what the sandboxes of platforms without pushes offer.
type pullOnlySandbox interface {
	http.Handler
	Advance(d time.Duration)
	Now() time.Time
	Credentials() map[string]string
}

type pulled struct {
	pullOnlySandbox
	channel order.Channel
	faults  *sandbox.Faults
}

func (p pulled) Faults() *sandbox.Faults { return p.faults }

func (p pulled) Shop(id, baseURL string) channel.Shop {
	return channel.Shop{Channel: p.channel, ID: id, BaseURL: baseURL, Credentials: p.Credentials(), ShipByDefault: 48 * time.Hour, Currency: "CNY"}
}

func (pulled) PushAll(context.Context, *http.Client, string) (int, error) { return 0, nil }

func (pulled) Pushes() bool { return false }
