package main

import (
	"strings"
	"testing"
)

// TestBudgetConns: the listeners' shares of the file-descriptor limit
// leave the prober at least five eighths, whatever the flag asks.
func TestBudgetConns(t *testing.T) {
	tests := []struct {
		nofile       uint64
		maxHTTP      int
		http, dnsTCP int
		wantErr      string
	}{
		{nofile: 256, http: 64, dnsTCP: 32},
		{nofile: 1024, http: 256, dnsTCP: 128},
		{nofile: 1 << 20, http: defaultMaxHTTPConns, dnsTCP: defaultMaxDNSTCPConns},
		{nofile: ^uint64(0), http: defaultMaxHTTPConns, dnsTCP: defaultMaxDNSTCPConns}, // RLIM_INFINITY
		{nofile: 0, http: defaultMaxHTTPConns, dnsTCP: defaultMaxDNSTCPConns},          // no limit to read
		{nofile: 256, maxHTTP: 10, http: 10, dnsTCP: 32},
		{nofile: 256, maxHTTP: 64, http: 64, dnsTCP: 32},
		{nofile: 256, maxHTTP: 65, wantErr: "--max-http-conns 65 is more than a quarter of the file-descriptor limit 256"},
		{nofile: 0, maxHTTP: 5000, http: 5000, dnsTCP: defaultMaxDNSTCPConns},
		{nofile: 256, maxHTTP: -1, wantErr: "--max-http-conns -1: use a positive number"},
		{nofile: 32, wantErr: "limit (RLIMIT_NOFILE) is 32; failoverd needs at least 64"},
	}
	for _, tc := range tests {
		b, err := budgetConns(tc.nofile, tc.maxHTTP)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("budgetConns(%d, %d) = %+v, %v; want error %q", tc.nofile, tc.maxHTTP, b, err, tc.wantErr)
			}
			continue
		}
		if err != nil || b.HTTP != tc.http || b.DNSTCP != tc.dnsTCP {
			t.Errorf("budgetConns(%d, %d) = %+v, %v; want HTTP %d, DNS TCP %d", tc.nofile, tc.maxHTTP, b, err, tc.http, tc.dnsTCP)
		}
		if tc.nofile > 0 && uint64(b.HTTP+b.DNSTCP) > tc.nofile*3/8 {
			t.Errorf("budgetConns(%d, %d): listeners get %d of %d descriptors, more than 3/8", tc.nofile, tc.maxHTTP, b.HTTP+b.DNSTCP, tc.nofile)
		}
	}
}
