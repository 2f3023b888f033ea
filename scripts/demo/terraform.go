package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// terraform runs a Terraform-compatible CLI on a copy of an example, with
// the provider from bin/ through dev_overrides: nothing is downloaded.
type terraform struct {
	bin, dir string
	env      []string
	// brief echoes only the outcome lines (plan summary, resources
	// created or destroyed, errors), for a timeline about something else.
	brief bool
}

func newTerraform(tfBin, providerDir, example, tmp, endpoint, token string) (*terraform, error) {
	work := filepath.Join(tmp, "config")
	if err := os.CopyFS(work, os.DirFS(example)); err != nil {
		return nil, fmt.Errorf("copy %s: %w", example, err)
	}
	rc := filepath.Join(tmp, "terraform.rc")
	cfg := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"hatopo/failover\" = %q\n  }\n  direct {}\n}\n", providerDir)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "FAILOVER_ENDPOINT="+endpoint, "FAILOVER_TOKEN="+token,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	return &terraform{bin: tfBin, dir: work, env: env}, nil
}

// run executes one command with vars as a -var-file, echoing the CLI's
// output indented under the demo's timeline.
func (t *terraform) run(ctx context.Context, vars map[string]any, args ...string) error {
	b, _ := json.Marshal(vars)
	vf := filepath.Join(t.dir, "demo.auto.tfvars.json")
	if err := os.WriteFile(vf, b, 0o600); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, t.bin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = t.dir, t.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	echo(out, t.brief)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("terraform %s: %w", args[0], err)
	}
	return nil
}

// echo prints the interesting lines of terraform's output: all but the
// dev_overrides warning, or with brief only the outcomes.
func echo(r io.Reader, brief bool) {
	sc := bufio.NewScanner(r)
	skipping := false
	for sc.Scan() {
		line := sc.Text()
		// The dev_overrides warning is expected here; keep the timeline readable.
		if strings.Contains(line, "Provider development overrides are in effect") {
			skipping = true
		}
		if skipping {
			// The warning ends with its box (╵) in colour, and with the
			// sentence "… incompatible with published releases." (wrapped
			// before "releases.") under -no-color, which draws no box.
			if strings.HasPrefix(line, "╵") || strings.HasSuffix(strings.TrimSpace(line), "releases.") {
				skipping = false
			}
			continue
		}
		if strings.TrimSpace(line) == "" || brief && !outcome(line) {
			continue
		}
		fmt.Println("              │ " + line)
	}
}

// outcome reports a line that says what a command did or why it failed.
func outcome(line string) bool {
	for _, s := range []string{"Plan:", "Creation complete", "Destruction complete", "Apply complete!", "Destroy complete!", "Error"} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (t *terraform) outputs(ctx context.Context) (map[string]any, error) {
	cmd := exec.CommandContext(ctx, t.bin, "output", "-json")
	cmd.Dir, cmd.Env = t.dir, t.env
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("terraform output: %w", err)
	}
	var raw map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for k, v := range raw {
		out[k] = v.Value
	}
	return out, nil
}
