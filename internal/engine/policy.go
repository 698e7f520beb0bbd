package engine

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/expr"
	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/value"
)

// policy is one compiled failure policy.
type policy struct {
	strategy   string
	maxRetries int
	interval   time.Duration
	cond       *expr.Program // nil: always applies
}

// policySet is the ordered list of conditional policies followed by the
// default one, as Google evaluates them: first matching condition wins.
type policySet struct {
	conditional []policy
	def         policy
}

// DefaultRetryInterval is used when a retrying policy sets no interval.
const DefaultRetryInterval = time.Second

func compilePolicy(fp *spec.FailurePolicy) (policy, error) {
	if fp == nil {
		return policy{strategy: spec.RetryNone}, nil
	}
	p := policy{strategy: fp.RetryStrategy, maxRetries: int(fp.MaxRetries)}
	switch p.strategy {
	case "", "RETRY_STRATEGY_UNSPECIFIED":
		p.strategy = spec.RetryNone
	case spec.RetryRestartWorkflowWithBackoff:
		p.strategy = spec.RetryRestartIntegrationWithBackoff
	case spec.RetryIgnore, spec.RetryNone, spec.RetryFatal, spec.RetryFixedInterval, spec.RetryLinearBackoff,
		spec.RetryExponentialBackoff, spec.RetryRestartIntegrationWithBackoff:
	default:
		return p, fmt.Errorf("unknown retryStrategy %q", fp.RetryStrategy)
	}
	if p.maxRetries < 0 {
		return p, fmt.Errorf("maxRetries %d is negative", p.maxRetries)
	}
	d, err := ParseInterval(string(fp.IntervalTime), time.Now())
	if err != nil {
		return p, err
	}
	p.interval = d
	if strings.TrimSpace(fp.Condition) != "" {
		c, err := expr.Compile(fp.Condition)
		if err != nil {
			return p, fmt.Errorf("condition: %w", err)
		}
		p.cond = c
	}
	return p, nil
}

// ParseInterval reads a failure policy's intervalTime: "" (default), a
// number of seconds ("5", "1.5"), a Go or proto duration ("5s", "500ms"),
// or an RFC 3339 timestamp, read as the delay from now to it.
func ParseInterval(s string, now time.Time) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("intervalTime %q is negative", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("intervalTime %q is negative", s)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		// The 2023+ schema types it as a Timestamp: the epoch-based form
		// ("1970-01-01T00:00:05Z") carries a duration.
		if t.Year() <= 1970 {
			return t.Sub(time.Unix(0, 0)), nil
		}
		if d := t.Sub(now); d > 0 {
			return d, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("intervalTime %q is neither seconds, a duration nor a timestamp", s)
}

func compilePolicies(cond *spec.ConditionalFailurePolicies, plain *spec.FailurePolicy) (*policySet, error) {
	ps := &policySet{}
	var err error
	if ps.def, err = compilePolicy(plain); err != nil {
		return nil, err
	}
	if cond == nil {
		return ps, nil
	}
	for i := range cond.FailurePolicies {
		p, err := compilePolicy(&cond.FailurePolicies[i])
		if err != nil {
			return nil, fmt.Errorf("conditionalFailurePolicies.failurePolicies[%d]: %w", i, err)
		}
		ps.conditional = append(ps.conditional, p)
	}
	if d := cond.DefaultFailurePolicy; d != nil && d.RetryStrategy != "" {
		if ps.def, err = compilePolicy(d); err != nil {
			return nil, fmt.Errorf("conditionalFailurePolicies.defaultFailurePolicy: %w", err)
		}
	}
	return ps, nil
}

// choose returns the policy that applies to a failure, given the variables
// with `ErrorInfo` already set.
func (ps *policySet) choose(g value.Getter) policy {
	for _, p := range ps.conditional {
		if p.cond == nil {
			return p
		}
		if ok, err := p.cond.Eval(g); err == nil && ok {
			return p
		}
	}
	return ps.def
}

// retries reports whether the policy retries the task in place.
func (p policy) retries() bool {
	switch p.strategy {
	case spec.RetryFixedInterval, spec.RetryLinearBackoff, spec.RetryExponentialBackoff:
		return true
	}
	return false
}

// delay is the wait before retry number n (1-based), with ±10% jitter.
func (p policy) delay(n int, scale float64) time.Duration {
	base := p.interval
	if base == 0 {
		base = DefaultRetryInterval
	}
	var d time.Duration
	switch p.strategy {
	case spec.RetryLinearBackoff:
		d = base * time.Duration(n)
	case spec.RetryExponentialBackoff, spec.RetryRestartIntegrationWithBackoff:
		shift := n - 1
		if shift > 20 {
			shift = 20
		}
		d = base << shift
	default:
		d = base
	}
	jitter := 0.9 + 0.2*rand.Float64()
	return time.Duration(float64(d) * jitter * scale)
}
