package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/integrationd/integrationd/internal/spec"
	"github.com/integrationd/integrationd/internal/store"
)

// Cron triggers: the CRON trigger's "Scheduled Time spec" property and the
// CLOUD_SCHEDULER trigger's cloudSchedulerConfig.cronTab, standard 5-field
// cron in UTC (a CRON_TZ=Zone or TZ=Zone prefix picks another zone), fire
// the published version of their integration. Every process runs the same
// loop; each tick is a job whose key (integration, trigger, tick time) the
// store accepts once, so a tick fires once however many processes share
// the database and across restarts. A process fires the ticks that come
// due while it runs: ticks that fell while no process ran are skipped, as
// cron daemons do, and a version fires no tick from before it was seen
// published.

const jobCron = "cron"

// cronParser reads 5-field specs and descriptors such as @hourly.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// CronSpec returns the cron spec of a trigger ("" when it is not a cron
// trigger).
func CronSpec(tc *spec.TriggerConfig) string {
	switch strings.ToUpper(tc.TriggerType) {
	case "CRON":
		for k, v := range tc.Properties {
			if strings.EqualFold(strings.TrimSpace(k), "Scheduled Time spec") {
				return strings.TrimSpace(v)
			}
		}
	case "CLOUD_SCHEDULER":
		if tc.CloudSchedulerConfig != nil {
			return strings.TrimSpace(tc.CloudSchedulerConfig.CronTab)
		}
	}
	return ""
}

// ParseCron parses a cron spec in UTC unless it names a zone.
func ParseCron(text string) (cron.Schedule, error) {
	if !strings.HasPrefix(text, "TZ=") && !strings.HasPrefix(text, "CRON_TZ=") {
		text = "CRON_TZ=UTC " + text
	}
	return cronParser.Parse(text)
}

// cronPayload is a tick to fire.
type cronPayload struct {
	Project     string    `json:"p"`
	Location    string    `json:"l"`
	Integration string    `json:"i"`
	VersionID   string    `json:"v"`
	Trigger     string    `json:"t"`
	Tick        time.Time `json:"tick"`
}

// cronEntry is one cron trigger of a published version.
type cronEntry struct {
	v       *store.Version
	trigger string
	sched   cron.Schedule
}

// cronLoop enqueues the ticks of the published cron triggers as they come
// due, every poll interval, until the queue stops.
func (q *queue) cronLoop() {
	defer q.loops.Done()
	s := q.s
	last := map[string]time.Time{} // trigger key -> ticks enqueued up to
	var entries []cronEntry
	var loaded time.Time
	t := time.NewTicker(min(s.cfg.PollInterval, time.Second))
	defer t.Stop()
	for {
		now := s.cfg.Now()
		if now.Sub(loaded) >= s.cfg.CronRefresh || q.cronDirty.Swap(false) {
			es, err := s.cronEntries(q.ctx)
			if err != nil {
				if q.ctx.Err() == nil {
					s.log.Error("loading cron triggers", "error", err)
				}
			} else {
				entries, loaded = es, now
			}
		}
		var jobs []*store.Job
		seen := make(map[string]bool, len(entries))
		for _, e := range entries {
			k := e.v.Key
			tk := k.Project + "/" + k.Location + "/" + k.Name + "/" + e.trigger
			seen[tk] = true
			from, ok := last[tk]
			if !ok {
				from = now // first seen: its first tick is the next one
			}
			for tick := e.sched.Next(from); !tick.After(now); tick = e.sched.Next(tick) {
				payload, _ := json.Marshal(cronPayload{Project: k.Project, Location: k.Location, Integration: k.Name,
					VersionID: e.v.ID, Trigger: e.trigger, Tick: tick.UTC()})
				jobs = append(jobs, &store.Job{Kind: jobCron, Key: fmt.Sprintf("cron:%s@%d", tk, tick.Unix()), Payload: payload, RunAt: tick})
				if len(jobs) > 1000 {
					break // a schedule far behind: catch up on the next round
				}
			}
			last[tk] = now
		}
		for tk := range last {
			if !seen[tk] {
				delete(last, tk) // unpublished: starts afresh if published again
			}
		}
		if len(jobs) > 0 {
			if err := s.st.Commit(q.ctx, nil, nil, jobs); err != nil && q.ctx.Err() == nil {
				s.log.Error("enqueueing cron ticks", "error", err)
			} else {
				q.notify()
			}
		}
		select {
		case <-q.quit:
			return
		case <-t.C:
		}
	}
}

// cronEntries lists the cron triggers of every published version.
func (s *Service) cronEntries(ctx context.Context) ([]cronEntry, error) {
	vs, err := s.st.ActiveVersions(ctx, store.IntegrationKey{})
	if err != nil {
		return nil, err
	}
	var out []cronEntry
	for _, v := range vs {
		c, err := s.plan(v)
		if err != nil {
			s.log.Warn("a published version does not compile; its cron triggers are off", "integration", v.Key.Name, "error", err)
			continue
		}
		for i := range c.plan.Version.TriggerConfigs {
			tc := &c.plan.Version.TriggerConfigs[i]
			text := CronSpec(tc)
			if text == "" {
				continue
			}
			sched, err := ParseCron(text)
			if err != nil {
				s.log.Warn("cron trigger with a bad spec is off", "integration", v.Key.Name, "trigger", tc.TriggerID, "spec", text, "error", err)
				continue
			}
			out = append(out, cronEntry{v: v, trigger: tc.TriggerID, sched: sched})
		}
	}
	return out, nil
}

// fireCron turns a tick into a PENDING execution and its run job, in one
// commit. The execution id derives from the tick's key, so a tick fired
// twice (a job run again after a crash) is one execution.
func (s *Service) fireCron(ctx context.Context, j *store.Job) error {
	var p cronPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	k := store.IntegrationKey{Project: p.Project, Location: p.Location, Name: p.Integration}
	v, err := s.st.GetVersion(ctx, k, p.VersionID)
	if err != nil || v.State != store.StateActive {
		// Unpublished (or deleted) since the tick was enqueued: no run.
		return s.st.Commit(ctx, nil, []int64{j.ID}, nil)
	}
	c, err := s.plan(v)
	if err != nil {
		return err
	}
	es := &execSpec{t: target{v, c.plan}, id: uuid.NewSHA1(uuid.NameSpaceURL, []byte(j.Key)).String(), trigger: p.Trigger,
		in: nil, mode: "ASYNC", method: "SCHEDULE", created: s.cfg.Now().UTC()}
	payload, err := json.Marshal(runPayload{Project: k.Project, Location: k.Location, Integration: k.Name, ID: es.id, Mode: es.mode})
	if err != nil {
		return err
	}
	rec := s.pendingRecord(es)
	if err := s.st.Commit(ctx, []*store.Execution{rec}, []int64{j.ID},
		[]*store.Job{{Kind: jobRun, Key: runJobKey(es.id), Payload: payload, RunAt: s.cfg.Now()}}); err != nil {
		return err
	}
	s.queue.notify()
	return nil
}
