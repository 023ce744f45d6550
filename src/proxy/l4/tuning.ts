/**
 * Limits and timeouts of the TCP, TLS and UDP listeners (part of
 * ProxyTuning). Defaults follow Envoy's tcp_proxy, tls_inspector,
 * proxy_protocol and udp_proxy where there is one.
 */
export interface L4Tuning {
  /** A TCP/TLS connection with no bytes either way for this long is closed (Envoy tcp_proxy: 1 h). */
  tcpIdleTimeoutMs: number;
  /** The PROXY header and ClientHello must arrive, and a terminated TLS handshake finish, within this. */
  l4PreambleTimeoutMs: number;
  /** Bytes buffered while waiting for a whole ClientHello; a bigger one is refused. */
  tlsClientHelloMaxBytes: number;
  /** A UDP session (client address and port → one upstream socket) without datagrams for this long ends (Envoy: 60 s). */
  udpSessionIdleMs: number;
  /** UDP sessions per listener socket; datagrams that would open one more are dropped. */
  udpMaxSessions: number;
  /** Datagrams held per session while its upstream socket is still connecting; more are dropped. */
  udpPendingDatagrams: number;
}

export const DEFAULT_L4_TUNING: Readonly<L4Tuning> = {
  tcpIdleTimeoutMs: 3_600_000,
  l4PreambleTimeoutMs: 10_000,
  tlsClientHelloMaxBytes: 16 * 1024,
  udpSessionIdleMs: 60_000,
  udpMaxSessions: 16_384,
  udpPendingDatagrams: 64,
};
