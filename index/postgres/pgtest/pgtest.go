// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// into a temporary folder, the server listening only on a Unix socket in
// that folder (no TCP), one fresh database per test, the pgvector
// extension created in each. When initdb or the extension is missing the
// tests that ask for a database skip, saying what to install.
//
// A package's tests share one cluster: call Main from TestMain so that it
// is stopped and removed after the last test.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		target := pgtest.New(t) // "host=/tmp/… dbname=t3 user=postgres"
//		…
//	}
//
// As root (CI runs as root, and initdb refuses to), the cluster belongs
// to Debian's postgres system user and its commands run through runuser.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where the PostgreSQL server programs are looked for when
// SIMSEARCH_PG_BIN is not set.
const BinDir = "/usr/lib/postgresql/15/bin"

// Server is a running throwaway cluster.
type Server struct {
	// Dir holds the cluster's data, its log and its socket.
	Dir string
	// Socket is the folder of the Unix socket: the host to connect to.
	Socket string
	bin    string
	runAs  string // system user the server runs as; "" for the current one
	count  atomic.Int64
}

var (
	once    sync.Once
	shared  *Server
	skipWhy string
)

// Main runs the package's tests and then stops the shared cluster, if one
// was started. Use it as TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// New returns the connection string of a new, empty database with the
// vector extension, on the shared cluster (started on first use). It
// skips the test when no cluster can be started.
func New(t testing.TB) string {
	t.Helper()
	target, err := Shared(t).CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// Start initializes and starts a cluster in a new temporary folder. Its
// error says what is missing when PostgreSQL or pgvector is not installed.
func Start() (*Server, error) {
	bin := os.Getenv("SIMSEARCH_PG_BIN")
	if bin == "" {
		bin = BinDir
	}
	for _, prog := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, prog)); err != nil {
			return nil, fmt.Errorf("%s not found in %s (install postgresql-15, or set SIMSEARCH_PG_BIN)", prog, bin)
		}
	}
	share, err := exec.Command(filepath.Join(bin, "pg_config"), "--sharedir").Output()
	if err != nil {
		share = []byte("/usr/share/postgresql/15")
	}
	control := filepath.Join(strings.TrimSpace(string(share)), "extension", "vector.control")
	if _, err := os.Stat(control); err != nil {
		return nil, fmt.Errorf("the pgvector extension is not installed (%s missing; run .ci/pgvector)", control)
	}

	s := &Server{bin: bin}
	dir, err := os.MkdirTemp("", "simsearch-pg-")
	if err != nil {
		return nil, err
	}
	s.Dir, s.Socket = dir, dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres system user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.runAs = "postgres"
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := "-k " + dir + " -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" +
		" -c shared_buffers=64MB -c maintenance_work_mem=128MB -c max_connections=200"
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.exec(ctx, "template1", "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("create extension vector: %w", err)
	}
	return s, nil
}

// run runs one of the server's programs as the cluster's user.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// Target returns the connection string of database name.
func (s *Server) Target(name string) string {
	return fmt.Sprintf("host=%s dbname=%s user=postgres", s.Socket, name)
}

// exec runs sql in database name.
func (s *Server) exec(ctx context.Context, name, sql string) error {
	conn, err := pgx.Connect(ctx, s.Target(name))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Exec runs sql as the superuser in the maintenance database (to create
// roles, or databases without the extension).
func (s *Server) Exec(ctx context.Context, sql string) error {
	return s.exec(ctx, "postgres", sql)
}

// CreateDatabase creates a new database from template1 (which holds the
// vector extension) and returns its connection string.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.count.Add(1))
	if err := s.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template1 STRATEGY FILE_COPY"); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.Target(name), nil
}

// Shared returns the package's shared cluster, starting it if needed, or
// skips the test.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() {
		s, err := Start()
		if err != nil {
			skipWhy = err.Error()
			return
		}
		shared = s
	})
	if shared == nil {
		t.Skipf("no PostgreSQL server for this test: %s", skipWhy)
	}
	return shared
}

// Stop stops the server at once and removes its folder.
func (s *Server) Stop() error {
	_, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	return errors.Join(err, os.RemoveAll(s.Dir))
}
