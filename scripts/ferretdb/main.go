// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for Déclic bot.
// It embeds the github.com/FerretDB/FerretDB/ferretdb package, which avoids the
// start-up panic of upstream's cmd/ferretdb over a missing version.txt.
package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"modernc.org/sqlite"
)

// Durability (-sync).
//
// FerretDB's SQLite backend runs every database in WAL mode. With SQLite's
// default synchronous=FULL, every commit fsyncs the WAL file: an acknowledged
// write survives anything, power cuts included, but each write pays an fsync.
//
// -sync=interval (the default) runs the pool connections with
// synchronous=NORMAL: a commit appends its frames to the WAL file (a write()
// into the OS page cache) and is acknowledged without an fsync. In WAL mode
// this still keeps every committed transaction across a crash of this process
// or of the service (SIGKILL, OOM kill, panic): the frames are in the kernel's
// page cache, which outlives the process, and the next open replays them. Only
// an OS crash or a power cut can lose the commits written since the WAL file
// was last synced. syncWALs bounds that window: every -sync-interval (100 ms
// by default, MongoDB's own journal commit interval for w:1 writes without j)
// it fsyncs every *.sqlite-wal file of the data directory. This is safe
// alongside SQLite's own writes:
//   - fsync through any descriptor of a file, even a read-only one opened by
//     another process, flushes all of that file's dirty pages: it is a
//     property of the file (inode), not of the descriptor that wrote them;
//   - every WAL frame carries a checksum chained over the previous frames and
//     the WAL header's salts, so a frame torn by a crash in the middle of a
//     write (or of our fsync) fails its checksum and recovery discards it and
//     everything after it: the database comes back at its last complete
//     commit, never corrupted;
//   - checkpoints are unchanged by NORMAL: SQLite still fsyncs the WAL before
//     copying its pages into the database file and fsyncs the database file
//     before it resets the WAL, so a checkpoint never loses committed data.
//
// The data directory is fsynced too, so that a WAL file created since the
// last tick keeps its directory entry across a power cut.
//
// -sync=full keeps SQLite's synchronous=FULL (an fsync at every commit).
const (
	syncInterval = "interval"
	syncFull     = "full"
)

// sqliteQuery returns the query of the SQLite URL given to FerretDB for a -sync
// mode. FerretDB v1.24.2 (internal/backends/sqlite/metadata/pool/uri.go) adds
// busy_timeout(10000), journal_mode(wal) and auto_vacuum(none) only when the
// URL has none of them, and modernc.org/sqlite runs the _pragma values in
// order on every new connection: the busy handler first (FerretDB sets it
// before WAL is enabled), then WAL, then the synchronous level, so that WAL
// stays on and the synchronous level applies to each pool connection.
func sqliteQuery(mode string) string {
	level := "NORMAL"
	if mode == syncFull {
		level = "FULL"
	}
	return "?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=synchronous(" + level + ")"
}

// syncWALs fsyncs every WAL file of the data directory, and the directory.
// WAL files come and go (a checkpoint on the last close removes them):
// errors are ignored, the next tick tries again.
func syncWALs(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite-wal"))
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		_ = f.Sync()
		_ = f.Close()
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// syncWALsEvery runs syncWALs every interval until ctx is done.
func syncWALsEvery(ctx context.Context, dir string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			syncWALs(dir)
		}
	}
}

var synchronousNames = map[string]string{"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}

// pragmaValue queries one PRAGMA on a raw driver connection.
func pragmaValue(conn sqlite.ExecQuerierContext, pragma string) (string, error) {
	rows, err := conn.QueryContext(context.Background(), "PRAGMA "+pragma, nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("PRAGMA %s returned no row", pragma)
		}
		return "", err
	}
	return fmt.Sprint(dest[0]), nil
}

// checkConnections registers a hook of the SQLite driver that runs on every new
// connection, after its _pragma values were applied, and queries the effective
// synchronous level and journal mode from SQLite itself. The first connection
// to each database file logs them (on start for the existing databases, on
// creation for new ones); any later connection that differs from what the
// -sync mode asks logs a warning. Only FerretDB's pool connections are checked
// (their URL has journal_mode, the index maintenance connections' has not).
func checkConnections(mode string, interval time.Duration) {
	want, policy := "1", fmt.Sprintf("wal fsync every %s", interval)
	if mode == syncFull {
		want, policy = "2", "fsync at every commit"
	}
	var mu sync.Mutex
	logged := map[string]bool{}
	sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
		if !strings.Contains(dsn, "journal_mode") {
			return nil
		}
		file := filepath.Base(strings.SplitN(strings.TrimPrefix(dsn, "file:"), "?", 2)[0])
		level, err := pragmaValue(conn, "synchronous")
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: WARNING: cannot read PRAGMA synchronous of %s: %v\n", file, err)
			return nil
		}
		journal, err := pragmaValue(conn, "journal_mode")
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: WARNING: cannot read PRAGMA journal_mode of %s: %v\n", file, err)
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if level != want || journal != "wal" {
			fmt.Fprintf(os.Stderr, "ferretdb: WARNING: a connection to %s runs with sqlite synchronous=%s (%s), journal_mode=%s; -sync=%s expects synchronous=%s (%s), journal_mode=wal\n",
				file, level, synchronousNames[level], journal, mode, want, synchronousNames[want])
		}
		if !logged[file] {
			logged[file] = true
			fmt.Fprintf(os.Stdout, "ferretdb: sqlite synchronous=%s (%s), journal_mode=%s on %s, %s\n", level, synchronousNames[level], journal, file, policy)
		}
		return nil
	})
}

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

// Checkpoints on request (SIGUSR1).
//
// SQLite keeps the page images of committed transactions in the WAL file
// until a checkpoint copies them into the database file, and a checkpoint
// of SQLite's own (automatic, PASSIVE) leaves the file's old frames in place:
// a document deleted on request (an erasure) stays readable in the
// *.sqlite-wal file for a while. FerretDB v1's wire protocol has no command
// for it, so the service sends SIGUSR1 after an erasure (src/db/embedded.ts)
// and checkpointAll runs PRAGMA wal_checkpoint(TRUNCATE) on every database
// file: every frame is copied into the database file (FerretDB's `compact`
// with force, which the service runs first, has rebuilt it without the
// deleted rows) and the WAL file is truncated to zero bytes. It prints one
// line per file, then "ferretdb: checkpoint done".
func checkpointAll(dir, mode string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	for _, file := range files {
		db, err := sql.Open("sqlite", "file:"+file+sqliteQuery(mode))
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: checkpoint of %s failed: %v\n", filepath.Base(file), err)
			continue
		}
		var busy, frames, copied int
		err = db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
		db.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: checkpoint of %s failed: %v\n", filepath.Base(file), err)
			continue
		}
		fmt.Fprintf(os.Stdout, "ferretdb: checkpoint %s busy=%d frames=%d copied=%d\n", filepath.Base(file), busy, frames, copied)
	}
	fmt.Fprintln(os.Stdout, "ferretdb: checkpoint done")
}

// checkpointOnSignal runs checkpointAll at every SIGUSR1 until ctx is done.
func checkpointOnSignal(ctx context.Context, dir, mode string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	// The service sends SIGUSR1 only to an engine that printed this (an older build would die of it).
	fmt.Fprintln(os.Stdout, "ferretdb: checkpoint on SIGUSR1")
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			checkpointAll(dir, mode)
		}
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (empty: no TCP listener)")
	listenUnix := flag.String("listen-unix", "", "Unix domain socket path to listen on (created mode 0600: only this user can connect)")
	dataDir := flag.String("data", "./data/ferretdb", "directory for the SQLite databases")
	syncMode := flag.String("sync", syncInterval, "durability of commits: interval (synchronous=NORMAL, WAL files fsynced every -sync-interval) or full (fsync at every commit)")
	syncEvery := flag.Duration("sync-interval", 100*time.Millisecond, "with -sync=interval, how often the WAL files are fsynced")
	flag.Parse()

	if *syncMode != syncInterval && *syncMode != syncFull {
		fmt.Fprintf(os.Stderr, "ferretdb: unknown -sync value %q: use %q or %q\n", *syncMode, syncInterval, syncFull)
		os.Exit(2)
	}
	if *syncEvery <= 0 {
		fmt.Fprintf(os.Stderr, "ferretdb: -sync-interval must be positive, got %s\n", *syncEvery)
		os.Exit(2)
	}

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: bad data dir:", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: cannot create data dir:", err)
		os.Exit(2)
	}

	if *listen == "" && *listenUnix == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: give -listen or -listen-unix")
		os.Exit(2)
	}
	if *listenUnix != "" {
		// The socket is only reachable by this user: connecting needs search permission on its directory, kept 0700.
		dir := filepath.Dir(*listenUnix)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "ferretdb: cannot create the socket directory:", err)
			os.Exit(2)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "ferretdb: cannot make the socket directory private:", err)
			os.Exit(2)
		}
		// A socket file left by an engine that was killed would make the listener fail.
		if _, err := os.Stat(*listenUnix); err == nil {
			if c, err := net.Dial("unix", *listenUnix); err == nil {
				c.Close()
				fmt.Fprintln(os.Stderr, "ferretdb: another engine already listens on", *listenUnix)
				os.Exit(2)
			}
			_ = os.Remove(*listenUnix)
		}
	}

	checkConnections(*syncMode, *syncEvery)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen, Unix: *listenUnix},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/" + sqliteQuery(*syncMode),
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
	go checkpointOnSignal(ctx, abs, *syncMode)
	if *syncMode == syncInterval {
		go syncWALsEvery(ctx, abs, *syncEvery)
	}
	if *listenUnix != "" {
		fmt.Fprintln(os.Stdout, "ferretdb: listening on unix socket", *listenUnix)
	}
	if *listen != "" {
		fmt.Fprintln(os.Stdout, "ferretdb: listening on", *listen)
	}
	err = <-done
	if *syncMode == syncInterval {
		// Once more at shutdown (FerretDB's last close normally checkpoints and removes the WAL files anyway).
		syncWALs(abs)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb: stopped with error:", err)
		os.Exit(1)
	}
}
