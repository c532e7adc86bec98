package server

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// limitListener accepts at most max connections at once: Accept waits for one of them to close
// before it accepts the next (the waiting clients stay in the listen backlog). It counts the open
// connections and their peak.
type limitListener struct {
	net.Listener
	sem    chan struct{}
	done   chan struct{}
	once   sync.Once
	log    *slog.Logger
	active atomic.Int64
	peak   atomic.Int64
	full   atomic.Bool // the limit was reached and not left since (logged once per episode)
}

func newLimitListener(ln net.Listener, max int, log *slog.Logger) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), done: make(chan struct{}), log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	default:
		if !l.full.Swap(true) {
			l.log.Warn("connection limit reached: new connections wait until one closes", "maxConnections", cap(l.sem))
		}
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	n := l.active.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &limitConn{Conn: c, l: l}, nil
}

func (l *limitListener) release() {
	if l.active.Add(-1) < int64(cap(l.sem))-1 {
		l.full.Store(false)
	}
	<-l.sem
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.done) })
	return err
}

// limitConn gives its slot back when closed (once).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}

// ReadFrom keeps the connection's own ReadFrom (sendfile for file downloads).
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
