// golang-migrate as a test peer: the library's own migrate.Migrate over its
// postgres driver and file source, the engine behind golang-migrate's CLI,
// so a test runs a migration set exactly as a golang-migrate user does.
//
//	golang-migrate -path DIR -database URL up|down|version
//
// Exit status: 0 on success (also "no change"), 1 on any error, which is
// printed on stderr as golang-migrate prints it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/postgres"
	_ "github.com/golang-migrate/migrate/v4/source/file"
)

func main() {
	path := flag.String("path", "", "directory of the migration files")
	database := flag.String("database", "", "postgres:// URL of the database")
	flag.Parse()
	if *path == "" || *database == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: golang-migrate -path DIR -database URL up|down|version")
		os.Exit(2)
	}
	m, err := migrate.New("file://"+*path, *database)
	if err != nil {
		fail(err)
	}
	defer m.Close()
	switch flag.Arg(0) {
	case "up":
		err = m.Up()
	case "down":
		err = m.Down()
	case "version":
		var version uint
		var dirty bool
		version, dirty, err = m.Version()
		if err == nil {
			fmt.Printf("%d dirty=%t\n", version, dirty)
		}
	default:
		fail(fmt.Errorf("unknown command %q", flag.Arg(0)))
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
