// Package webdriver drives a real browser through chromedriver's W3C
// WebDriver HTTP API: just what the console's browser tests need (open a
// page, find and click elements, type, read text, run a script, take a
// screenshot), with no dependency beyond net/http.
package webdriver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// elementKey is the W3C name of an element reference in JSON.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// Tools are the browser and its driver.
type Tools struct {
	Chromedriver string
	Chromium     string
}

// Find locates chromedriver and Chromium: $CHROMEDRIVER and $CHROMIUM, or
// on PATH (Debian: chromium-driver and chromium, `make tools` installs
// them). The error says what is missing and how to get it.
func Find() (Tools, error) {
	look := func(env string, names ...string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	t := Tools{Chromedriver: look("CHROMEDRIVER", "chromedriver"), Chromium: look("CHROMIUM", "chromium", "chromium-browser")}
	var missing []string
	if t.Chromedriver == "" {
		missing = append(missing, "chromedriver (Debian chromium-driver)")
	}
	if t.Chromium == "" {
		missing = append(missing, "chromium")
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("no %s: run `make tools` (it installs them with apt-get), or set $CHROMEDRIVER and $CHROMIUM", strings.Join(missing, " and no "))
	}
	return t, nil
}

// Driver is a running chromedriver, listening on localhost only.
type Driver struct {
	tools Tools
	cmd   *exec.Cmd
	base  string
	hc    *http.Client
	done  chan struct{}
}

var portLine = regexp.MustCompile(`started successfully on port (\d+)`)

// Start runs chromedriver on a free port of localhost (it accepts local
// connections only unless told otherwise, and it is not told).
func Start(ctx context.Context, t Tools) (*Driver, error) {
	cmd := exec.Command(t.Chromedriver, "--port=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", t.Chromedriver, err)
	}
	d := &Driver{tools: t, cmd: cmd, hc: &http.Client{Timeout: 60 * time.Second}, done: make(chan struct{})}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := portLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(d.done) }()
	select {
	case p := <-port:
		d.base = "http://127.0.0.1:" + p
		return d, nil
	case <-d.done:
		return nil, errors.New("chromedriver exited before it listened")
	case <-time.After(20 * time.Second):
		d.Stop()
		return nil, errors.New("chromedriver did not say its port within 20s")
	case <-ctx.Done():
		d.Stop()
		return nil, ctx.Err()
	}
}

// Stop ends chromedriver and every browser it started (its process group).
func (d *Driver) Stop() {
	if d.cmd.Process != nil {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
	}
}

// call sends one command and decodes its "value" into out (when non-nil).
func (d *Driver) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return fmt.Errorf("webdriver %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		json.Unmarshal(env.Value, &e)
		return &Error{Code: e.Error, Message: e.Message}
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// Error is a WebDriver error ("no such element", "javascript error", …).
type Error struct{ Code, Message string }

func (e *Error) Error() string { return "webdriver: " + e.Code + ": " + firstLine(e.Message) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// IsNoSuchElement reports whether err says an element was not found.
func IsNoSuchElement(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "no such element"
}

// IsStale reports whether err says an element left the page (a live
// page re-rendered it).
func IsStale(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "stale element reference"
}

// Session is one headless browser window.
type Session struct {
	d  *Driver
	id string
}

// NewSession opens a headless Chromium window of width×height CSS pixels
// with a throwaway profile in profileDir.
func (d *Driver) NewSession(ctx context.Context, width, height int, profileDir string) (*Session, error) {
	args := []string{"--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--user-data-dir=" + profileDir,
		fmt.Sprintf("--window-size=%d,%d", width, height)}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": d.tools.Chromium, "args": args},
		"goog:loggingPrefs":  map[string]string{"browser": "ALL"},
	}}}
	var v struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call(ctx, http.MethodPost, "/session", caps, &v); err != nil {
		return nil, err
	}
	return &Session{d: d, id: v.SessionID}, nil
}

func (s *Session) call(ctx context.Context, method, path string, in, out any) error {
	return s.d.call(ctx, method, "/session/"+s.id+path, in, out)
}

// Close ends the session and its browser.
func (s *Session) Close(ctx context.Context) error {
	return s.d.call(ctx, http.MethodDelete, "/session/"+s.id, nil, nil)
}

// Navigate opens url and waits for the page to load.
func (s *Session) Navigate(ctx context.Context, url string) error {
	return s.call(ctx, http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

// Element is a reference to an element of the current page.
type Element struct {
	s  *Session
	id string
}

// Find returns the first element matching the CSS selector.
func (s *Session) Find(ctx context.Context, css string) (*Element, error) {
	var v map[string]string
	if err := s.call(ctx, http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &v); err != nil {
		return nil, err
	}
	return &Element{s: s, id: elementID(v)}, nil
}

// FindAll returns every element matching the CSS selector.
func (s *Session) FindAll(ctx context.Context, css string) ([]*Element, error) {
	var v []map[string]string
	if err := s.call(ctx, http.MethodPost, "/elements", map[string]string{"using": "css selector", "value": css}, &v); err != nil {
		return nil, err
	}
	out := make([]*Element, len(v))
	for i, m := range v {
		out[i] = &Element{s: s, id: elementID(m)}
	}
	return out, nil
}

// elementID reads an element reference: the W3C key, or the legacy
// "ELEMENT" some drivers still send.
func elementID(m map[string]string) string {
	if id, ok := m[elementKey]; ok {
		return id
	}
	return m["ELEMENT"]
}

// Click clicks the element as a user would (scrolled into view; refused
// when another element covers it).
func (e *Element) Click(ctx context.Context) error {
	return e.s.call(ctx, http.MethodPost, "/element/"+e.id+"/click", map[string]any{}, nil)
}

// Type sends keystrokes to the element.
func (e *Element) Type(ctx context.Context, text string) error {
	return e.s.call(ctx, http.MethodPost, "/element/"+e.id+"/value", map[string]string{"text": text}, nil)
}

// Clear empties an input.
func (e *Element) Clear(ctx context.Context) error {
	return e.s.call(ctx, http.MethodPost, "/element/"+e.id+"/clear", map[string]any{}, nil)
}

// Text is the element's rendered text.
func (e *Element) Text(ctx context.Context) (string, error) {
	var v string
	err := e.s.call(ctx, http.MethodGet, "/element/"+e.id+"/text", nil, &v)
	return v, err
}

// Exec runs a script in the page (arguments as `arguments[i]`) and decodes
// what it returns into out (when non-nil).
func (s *Session) Exec(ctx context.Context, out any, script string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return s.call(ctx, http.MethodPost, "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// URL is the address bar's URL.
func (s *Session) URL(ctx context.Context) (string, error) {
	var v string
	err := s.call(ctx, http.MethodGet, "/url", nil, &v)
	return v, err
}

// Screenshot returns a PNG of the viewport.
func (s *Session) Screenshot(ctx context.Context) ([]byte, error) {
	var v string
	if err := s.call(ctx, http.MethodGet, "/screenshot", nil, &v); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(v)
}

// SetWindowSize resizes the window (a phone: 390×844).
func (s *Session) SetWindowSize(ctx context.Context, width, height int) error {
	return s.call(ctx, http.MethodPost, "/window/rect", map[string]int{"width": width, "height": height}, nil)
}

// Logs returns the browser console's messages since the last call (the
// page's errors, CSP violations).
func (s *Session) Logs(ctx context.Context) ([]string, error) {
	var v []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if err := s.call(ctx, http.MethodPost, "/se/log", map[string]string{"type": "browser"}, &v); err != nil {
		return nil, err
	}
	out := make([]string, len(v))
	for i, l := range v {
		out[i] = l.Level + " " + l.Message
	}
	return out, nil
}
