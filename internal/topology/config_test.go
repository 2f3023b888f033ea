package topology

import (
	"encoding/json"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestRenderConfig(t *testing.T) {
	set := rs(with(orderGroove(), map[string]api.Member{
		"chi-1":  mem("chicago", zone("chicago-a"), prio(2), tags("rack", "r1", "site", "chicago")),
		"backup": mem("virginia", hidden, delay(3600), votes(0)),
	}))
	ids := map[string]int{"va-1": 0, "va-2": 1, "arb": 2, "chi-1": 3, "chi-2": 4}
	got, err := json.MarshalIndent(RenderConfig(set, ids, 7), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "_id": "orders",
  "version": 7,
  "members": [
    {
      "_id": 0,
      "host": "va-1.example.org:27017",
      "priority": 1,
      "votes": 1,
      "arbiterOnly": false,
      "hidden": false,
      "secondaryDelaySecs": 0,
      "tags": {
        "site": "virginia",
        "zone": "virginia-a"
      }
    },
    {
      "_id": 1,
      "host": "va-2.example.org:27017",
      "priority": 1,
      "votes": 1,
      "arbiterOnly": false,
      "hidden": false,
      "secondaryDelaySecs": 0,
      "tags": {
        "site": "virginia",
        "zone": "virginia-b"
      }
    },
    {
      "_id": 2,
      "host": "arb.example.org:27017",
      "priority": 0,
      "votes": 1,
      "arbiterOnly": true,
      "hidden": false,
      "secondaryDelaySecs": 0
    },
    {
      "_id": 3,
      "host": "chi-1.example.org:27017",
      "priority": 2,
      "votes": 1,
      "arbiterOnly": false,
      "hidden": false,
      "secondaryDelaySecs": 0,
      "tags": {
        "rack": "r1",
        "site": "chicago",
        "zone": "chicago-a"
      }
    },
    {
      "_id": 4,
      "host": "chi-2.example.org:27017",
      "priority": 2,
      "votes": 1,
      "arbiterOnly": false,
      "hidden": false,
      "secondaryDelaySecs": 0,
      "tags": {
        "site": "chicago",
        "zone": "chicago-b"
      }
    },
    {
      "_id": 5,
      "host": "backup.example.org:27017",
      "priority": 0,
      "votes": 0,
      "arbiterOnly": false,
      "hidden": true,
      "secondaryDelaySecs": 3600,
      "tags": {
        "site": "virginia"
      }
    }
  ]
}`
	if string(got) != want {
		t.Errorf("RenderConfig =\n%s\nwant\n%s", got, want)
	}
}

func TestRenderConfigSiteAndZoneWin(t *testing.T) {
	// ValidateReplicaSet rejects the contradiction; the document still
	// follows site and zone, never the stray tag.
	set := rs(map[string]api.Member{"a": mem("east", zone("east-1"), tags("site", "west", "zone", "x", "rack", "r2"))})
	cfg := RenderConfig(set, nil, 1)
	if len(cfg.Members) != 1 {
		t.Fatalf("members = %v", cfg.Members)
	}
	tags := cfg.Members[0].Tags
	if tags["site"] != "east" || tags["zone"] != "east-1" || tags["rack"] != "r2" {
		t.Errorf("tags = %v, want site=east zone=east-1 rack=r2", tags)
	}
	if set.Members["a"].Tags["site"] != "west" {
		t.Errorf("RenderConfig modified the input's tags")
	}
}

func TestRenderConfigFillsMissingIDs(t *testing.T) {
	set := rs(spread(3, "a", "b", "c"))
	cfg := RenderConfig(set, map[string]int{"db-3": 0, "gone": 1}, 2)
	got := map[string]int{}
	for _, m := range cfg.Members {
		got[m.Host] = m.ID
	}
	want := map[string]int{"db-3.example.org:27017": 0, "db-1.example.org:27017": 1, "db-2.example.org:27017": 2}
	for h, id := range want {
		if got[h] != id {
			t.Errorf("%s: _id %d, want %d (all: %v)", h, got[h], id, got)
		}
	}
	checkConfigInvariants(t, set, cfg)
}

// checkConfigInvariants asserts what holds for any rendered document.
func checkConfigInvariants(t *testing.T, set api.ReplicaSet, cfg ReplSetConfig) {
	t.Helper()
	if cfg.ID != set.Name || len(cfg.Members) != len(set.Members) {
		t.Fatalf("config _id %q with %d members, want %q with %d", cfg.ID, len(cfg.Members), set.Name, len(set.Members))
	}
	for i, m := range cfg.Members {
		if i > 0 && cfg.Members[i-1].ID >= m.ID {
			t.Fatalf("members not sorted by unique _id: %d then %d", cfg.Members[i-1].ID, m.ID)
		}
		if m.ArbiterOnly && m.Tags != nil {
			t.Fatalf("arbiter %q has tags %v", m.Host, m.Tags)
		}
	}
}
