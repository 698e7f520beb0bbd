package tasks

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultRESTDenyCIDRs are the destinations the REST task refuses by
// default: link-local addresses, among them the cloud metadata servers
// (169.254.169.254, and AWS's fd00:ec2::254), and link-local multicast.
var DefaultRESTDenyCIDRs = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("224.0.0.0/24"),
	netip.MustParsePrefix("ff02::/16"),
}

// ParseCIDRs parses a comma-separated list of CIDR prefixes or single
// addresses (a /32 or /128). Space around items is ignored; an empty list
// gives an empty, non-nil slice.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR prefix nor an address", item)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix: %v", item, err)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", item)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ErrDestinationDenied marks an outbound call to a forbidden address.
var ErrDestinationDenied = errors.New("destination address not allowed")

// destinations decides which addresses the REST task may connect to.
type destinations struct {
	deny, allow []netip.Prefix
}

// check returns nil when a connection to a may be made: a is in no denied
// range and, when there is an allow list, in one of its ranges.
func (d *destinations) check(a netip.Addr) error {
	a = a.Unmap()
	for _, p := range d.deny {
		if p.Contains(a) {
			return fmt.Errorf("%w: %s is in the denied range %s", ErrDestinationDenied, a, p)
		}
	}
	if len(d.allow) == 0 {
		return nil
	}
	for _, p := range d.allow {
		if p.Contains(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not in the allowed ranges", ErrDestinationDenied, a)
}

// control runs after name resolution, before connecting, so it sees the
// address actually dialled (also for every redirect hop and token request).
func (d *destinations) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrDestinationDenied, address)
	}
	return d.check(ap.Addr())
}

// restRuntime is what every REST task of one registry shares: the
// transports (keep-alive, connection reuse), the limits and the auth
// config resolver.
type restRuntime struct {
	transport   *http.Transport // verifies certificates
	insecure    *http.Transport // disableSSLValidation
	maxBody     int64
	defTime     time.Duration
	authConfigs AuthConfigResolver

	certMu sync.Mutex
	certTr map[certKey]*http.Transport
}

type certKey struct {
	leaf     [sha256.Size]byte
	insecure bool
}

// maxCertTransports bounds the transports kept for client certificates;
// past it they are all dropped (idle connections closed) and rebuilt on
// use.
const maxCertTransports = 64

func newRESTRuntime(opts Options) *restRuntime {
	deny := opts.RESTDenyCIDRs
	if deny == nil {
		deny = DefaultRESTDenyCIDRs
	}
	dest := &destinations{deny: deny, allow: opts.RESTAllowCIDRs}
	mk := func(insecure bool) *http.Transport {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: dest.control}
		t := &http.Transport{
			// No proxy: the destination check must apply to the real
			// destination.
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{},
		}
		if insecure {
			t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the task's disableSSLValidation
		}
		return t
	}
	maxBody := opts.RESTMaxResponseBytes
	if maxBody <= 0 {
		maxBody = restMaxBody
	}
	return &restRuntime{transport: mk(false), insecure: mk(true), maxBody: maxBody, defTime: restDefaultTimeout,
		authConfigs: opts.AuthConfigs, certTr: make(map[certKey]*http.Transport)}
}

// baseTransport is the shared transport of a task.
func (rt *restRuntime) baseTransport(insecure bool) *http.Transport {
	if insecure {
		return rt.insecure
	}
	return rt.transport
}

// certTransport returns a transport like the shared one that presents
// cert, one per certificate, kept for connection reuse.
func (rt *restRuntime) certTransport(cert *tls.Certificate, insecure bool) *http.Transport {
	k := certKey{insecure: insecure}
	if len(cert.Certificate) > 0 {
		k.leaf = sha256.Sum256(cert.Certificate[0])
	}
	rt.certMu.Lock()
	defer rt.certMu.Unlock()
	if t, ok := rt.certTr[k]; ok {
		return t
	}
	if len(rt.certTr) >= maxCertTransports {
		for _, t := range rt.certTr {
			t.CloseIdleConnections()
		}
		clear(rt.certTr)
	}
	t := rt.baseTransport(insecure).Clone()
	t.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	rt.certTr[k] = t
	return t
}
