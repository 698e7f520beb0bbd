package service_test

import (
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/service"
	"github.com/integrationd/integrationd/internal/spec"
)

func TestCronSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		tc   spec.TriggerConfig
		want string
	}{
		{"CRON property", spec.TriggerConfig{TriggerType: "CRON", Properties: map[string]string{"Timer Name": "t", "Scheduled Time spec": " 10 12 * * * "}}, "10 12 * * *"},
		{"CLOUD_SCHEDULER", spec.TriggerConfig{TriggerType: "CLOUD_SCHEDULER", CloudSchedulerConfig: &spec.CloudSchedulerConfig{CronTab: "0 * * * *"}}, "0 * * * *"},
		{"API trigger", spec.TriggerConfig{TriggerType: "API", Properties: map[string]string{"Scheduled Time spec": "* * * * *"}}, ""},
		{"CRON without spec", spec.TriggerConfig{TriggerType: "CRON"}, ""},
	} {
		if got := service.CronSpec(&tc.tc); got != tc.want {
			t.Errorf("%s: CronSpec = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseCron(t *testing.T) {
	from := time.Date(2030, 3, 1, 10, 7, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec string
		next time.Time
	}{
		{"10 12 * * *", time.Date(2030, 3, 1, 12, 10, 0, 0, time.UTC)}, // UTC by default
		{"*/20 * * * *", time.Date(2030, 3, 1, 10, 20, 0, 0, time.UTC)},
		{"@hourly", time.Date(2030, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"CRON_TZ=Asia/Tokyo 0 20 * * *", time.Date(2030, 3, 1, 11, 0, 0, 0, time.UTC)}, // 20:00 JST
		{"TZ=America/New_York 0 6 * * *", time.Date(2030, 3, 1, 11, 0, 0, 0, time.UTC)}, // 06:00 EST
	} {
		s, err := service.ParseCron(tc.spec)
		if err != nil {
			t.Errorf("%s: %v", tc.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(tc.next) {
			t.Errorf("%s: next after %v = %v, want %v", tc.spec, from, got.UTC(), tc.next)
		}
	}
	for _, bad := range []string{"", "* * *", "61 * * * *", "0 0 * * * *", "CRON_TZ=Nowhere/City 0 0 * * *"} {
		if _, err := service.ParseCron(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
