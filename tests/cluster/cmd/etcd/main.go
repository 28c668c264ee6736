// Command etcd is upstream etcd's server entry point, built from the version
// of go.etcd.io/etcd/server/v3 that the pinned k8s.io/apiserver requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
