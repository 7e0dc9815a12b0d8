// Command ferretdb runs FerretDB 1.24 (a MongoDB wire-protocol server) on PostgreSQL for the local stack
// and the tests.
//
// It embeds the FerretDB library instead of using `go install .../cmd/ferretdb`, whose module build panics
// at start because its generated version file is empty. The embedded package skips that check.
//
// Usage: ferretdb -listen 127.0.0.1:27027 -postgresql-url postgres://postgres@127.0.0.1:25432/ferretdb -log-level error
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27027", "TCP address to accept MongoDB wire-protocol clients on")
	pgURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:25432/ferretdb", "PostgreSQL connection URL")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error (warn logs every error response)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: -log-level: %s\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %s\n", err)
		os.Exit(1)
	}

	// Run until SIGTERM or SIGINT; Run closes the listener, the connections and the backend on return.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s, storage %s, log level %s\n", *listen, *pgURL, level)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %s\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "ferretdb: stopped")
}
