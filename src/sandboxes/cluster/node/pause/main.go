// The real node's pod sandbox ("pause") image: a static binary that holds the pod's
// namespaces open and exits on SIGINT/SIGTERM. Built with CGO_ENABLED=0 by
// sandboxes.cluster.realnode and imported into containerd; nothing is pulled.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	signal.Ignore(syscall.SIGCHLD)
	<-signals
}
