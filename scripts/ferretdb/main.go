// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for Déclic bot.
// It embeds the github.com/FerretDB/FerretDB/ferretdb package, which avoids the
// start-up panic of upstream's cmd/ferretdb over a missing version.txt.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite"
)

// FerretDB v1.24's SQLite backend creates the unique _id index on the
// expression _ferretdb_sjson->"_id" but filters _id lookups with
// _ferretdb_sjson->'$._id': SQLite cannot use the index, so every _id lookup,
// update and upsert scans the whole table. indexIDs adds an index on the exact
// expression the queries use, for every collection table of every database
// file, and keeps doing so as collections are created.
func indexIDs(ctx context.Context, dir string) {
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			ensureIDIndexes(file)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// ensureIDIndexes creates the missing _id path indexes of one database file
// (collections are created, dropped and re-created at any time).
func ensureIDIndexes(file string) {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return
	}
	defer db.Close()
	rows, err := db.Query(`SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || '__id_path')`)
	if err != nil {
		return
	}
	var tables []string
	for rows.Next() {
		var t string
		if rows.Scan(&t) == nil && !strings.ContainsAny(t, `"`) {
			tables = append(tables, t)
		}
	}
	rows.Close()
	for _, t := range tables {
		_, _ = db.Exec(fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s__id_path" ON "%s" (_ferretdb_sjson->'$._id')`, t, t))
	}
}
func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "./data/ferretdb", "directory for the SQLite databases")
	flag.Parse()

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: bad data dir:", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: cannot create data dir:", err)
		os.Exit(2)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: init failed:", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	go indexIDs(ctx, abs)
	fmt.Fprintln(os.Stdout, "ferretdb: listening on", *listen)
	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb: stopped with error:", err)
		os.Exit(1)
	}
}
