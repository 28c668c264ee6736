package main

// A TCP proxy between one controller replica and the API server, owned by
// the suite, so a fault can cut or slow exactly that replica's connections
// (loopback only). TLS passes through untouched: the API server's
// certificate names 127.0.0.1, which is where the proxy listens too.

import (
	"net"
	"sync"
	"time"
)

type proxyMode int

const (
	proxyPass      proxyMode = iota
	proxyReset               // existing connections closed, new ones closed at once
	proxyBlackhole           // nothing forwarded either way until the mode changes (a partition)
	proxyDelay               // every chunk held back by `delay`
)

type Proxy struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	mode  proxyMode
	delay time.Duration
	conns map[net.Conn]struct{}
}

func NewProxy(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) Close() {
	p.ln.Close()
	p.Set(proxyReset, 0)
}

// Set changes the mode. A reset closes what is open now, so a client in the
// middle of a request or a watch sees the cut at once; a blackhole holds
// every byte (as TCP would keep retransmitting across a partition), so the
// client learns only through its own timeouts, and what it sent arrives
// once the partition heals if it is still waiting.
func (p *Proxy) Set(mode proxyMode, delay time.Duration) {
	p.mu.Lock()
	p.mode, p.delay = mode, delay
	var cut []net.Conn
	if mode == proxyReset || mode == proxyBlackhole {
		for c := range p.conns {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	if mode == proxyReset {
		for _, c := range cut {
			c.Close()
		}
	}
}

func (p *Proxy) state() (proxyMode, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.delay
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

// waitOpen blocks while the link is partitioned; false when it is reset.
func (p *Proxy) waitOpen() bool {
	for {
		mode, _ := p.state()
		if mode == proxyReset {
			return false
		}
		if mode != proxyBlackhole {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Proxy) handle(client net.Conn) {
	defer client.Close()
	p.track(client, true)
	defer p.track(client, false)
	if !p.waitOpen() {
		return
	}
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	p.track(server, true)
	defer p.track(server, false)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst chunk by chunk, consulting the mode for each: a
// blackhole holds the chunk until the partition heals, a delay holds it
// for that long.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitOpen() {
				return
			}
			if mode, delay := p.state(); mode == proxyDelay {
				time.Sleep(delay)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
