// Command sg-node-agent runs the local cluster's node: see
// schemagate.dev/tests/cluster/internal/agent.
package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"schemagate.dev/tests/cluster/internal/agent"
)

func main() {
	klog.InitFlags(nil)
	var cfg agent.Config
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the agent's identity")
	flag.StringVar(&cfg.NodeName, "node-name", "sg-node", "name of the Node to register")
	flag.StringVar(&cfg.NodeIP, "node-ip", "127.0.0.1", "node IP (and the IP of hostNetwork pods)")
	flag.StringVar(&cfg.PodCIDR, "pod-cidr", "127.1.0.0/16", "loopback prefix of pod IPs, one address per pod (empty: pods get the node IP)")
	flag.StringVar(&cfg.StateDir, "state-dir", "", "directory for pod volumes and termination logs")
	flag.StringVar(&cfg.APIHost, "api-host", "127.0.0.1", "KUBERNETES_SERVICE_HOST given to pods")
	flag.StringVar(&cfg.APIPort, "api-port", "6443", "KUBERNETES_SERVICE_PORT given to pods")
	flag.StringVar(&cfg.DockerBin, "docker", "docker", "docker CLI")
	flag.DurationVar(&cfg.TokenRefreshPeriod, "token-refresh-period", 0,
		"rotate projected ServiceAccount tokens at least this often (0: at 80% of their lifetime, like the kubelet)")
	flag.Parse()
	if cfg.StateDir == "" {
		klog.Exit("--state-dir is required")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Exitf("kubeconfig: %v", err)
	}
	rc.QPS, rc.Burst = 50, 100
	rc.UserAgent = "sg-node-agent"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		klog.Exitf("client: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := agent.New(cfg, client)
	if err != nil {
		klog.Exitf("agent: %v", err)
	}
	if err := a.Run(ctx); err != nil && ctx.Err() == nil {
		klog.Exitf("agent: %v", err)
	}
}
