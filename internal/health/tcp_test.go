package health

import (
	"context"
	"net"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	closed := freePort(t)

	tests := []struct {
		name    string
		addr    string
		wantOK  bool
		wantErr string
	}{
		{"listening", ln.Addr().String(), true, ""},
		{"closed port", closed, false, "dial tcp " + closed + ": connect: connection refused"},
		{"invalid address", "127.0.0.1", false, "invalid check: address: address 127.0.0.1: missing port in address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := probeTCP(context.Background(), newCheck("db", api.CheckTCP, tt.addr))
			if res.OK != tt.wantOK || res.Error != tt.wantErr || res.Status != 0 {
				t.Fatalf("OK=%v Error=%q Status=%d, want OK=%v Error=%q", res.OK, res.Error, res.Status, tt.wantOK, tt.wantErr)
			}
			if res.Check != "db" || res.Latency <= 0 || res.At.Before(res.Start) {
				t.Errorf("bad bookkeeping: %+v", res)
			}
		})
	}
}
