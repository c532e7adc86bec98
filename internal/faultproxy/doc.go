// Package faultproxy is a test-support HTTP reverse proxy that injects faults between a client
// and a real server on loopback: error status bursts (with Retry-After), connection resets after
// N body bytes, stalls, truncated and corrupted bodies, and arbitrary body rewrites. Rules match
// requests by method and path pattern and may apply to a bounded number of requests; every rule
// and the proxy as a whole count what they saw.
//
// Typical use: start the server, start a Proxy in front of it, set the server's public URL (the
// host of its signed file URLs) to the proxy's URL and point the client's profile at the proxy,
// so that both protocol requests and file downloads go through it.
//
// It is for tests only: it forwards to one loopback target and never hides secrets it forwards.
package faultproxy
