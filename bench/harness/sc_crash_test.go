package harness

import (
	"testing"
	"time"
)

func TestCrashWriteState(t *testing.T) {
	now := time.Now()
	set := &crashWrite{kind: 's', value: "v", deadline: now.Add(time.Hour)}
	if st := set.state(crashState{}); !st.present || st.value != "v" || !st.deadline.Equal(now.Add(time.Hour)) {
		t.Fatalf("set: %+v", st)
	}
	inc := &crashWrite{kind: 'i', amount: 3, deadline: now.Add(time.Hour)}
	st := inc.state(crashState{})
	if st.value != "3" || !st.deadline2.IsZero() {
		t.Fatalf("increment of a missing key: %+v", st)
	}
	prev := crashState{present: true, value: "4", deadline: now.Add(40 * time.Minute)}
	if st := inc.state(prev); st.value != "7" || !st.deadline2.Equal(prev.deadline) {
		t.Fatalf("increment: %+v", st)
	}
	if st := (&crashWrite{kind: 'd'}).state(prev); st.present {
		t.Fatalf("delete: %+v", st)
	}
}

func TestCrashTTLClose(t *testing.T) {
	now := time.Now()
	want := &crashState{present: true, deadline: now.Add(time.Hour), deadline2: now.Add(10 * time.Minute)}
	for got, ok := range map[time.Duration]bool{
		time.Hour: true, time.Hour - 30*time.Second: true, 10 * time.Minute: true,
		time.Hour - 2*time.Minute: false, 30 * time.Minute: false, -time.Second: false,
	} {
		if ttlClose(want, now.Add(got), now) != ok {
			t.Errorf("remaining %v: close = %v, want %v", got, !ok, ok)
		}
	}
	if ttlClose(want, time.Time{}, now) {
		t.Error("no TTL read counts as close")
	}
}
