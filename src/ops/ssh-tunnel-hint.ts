/**
 * On a server reached by SSH, how to open the playground from your own computer: an SSH tunnel
 * command ready to copy (the playground listens on the server's 127.0.0.1 only). Undefined when
 * not in an SSH session.
 */
export function sshTunnelHint(env: NodeJS.ProcessEnv, port: string): string | undefined {
  const server = env.SSH_CONNECTION?.trim().split(/\s+/)[2];
  if (!server) return undefined;
  const user = env.USER ?? env.LOGNAME ?? 'root';
  const host = server.includes(':') ? `[${server}]` : server;
  return `This is a server: to open the playground on your own computer, run there: ssh -L ${port}:127.0.0.1:${port} ${user}@${host} — then open http://127.0.0.1:${port}/ in your browser.`;
}
