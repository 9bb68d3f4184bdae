/**
 * SSH that behaves like OpenSSH, on ssh2 and ssh-config: the engine's way to
 * read files, run commands and open TCP streams on inventory hosts.
 */
export { shellJoin, shellQuote } from './quote';
export { checkHostKey, fingerprintSha256, keyTypeOf, knownHostsLine, knownHostsName, parseKnownHosts } from './knownhosts';
export type { HostKeyVerdict, KnownHostEntry } from './knownhosts';
export { defaultSshConfigFile, expandIncludes, expandTokens, loadSshConfigText, parseHop, readSshConfig, resolveSsh } from './config';
export type { ResolvedSsh } from './config';
export { SshPool } from './pool';
export type { SshPoolOptions } from './pool';
export { SshError } from './types';
export type { ExecOptions, ExecResult, Prompts, RemoteHost, RemoteStat, SshErrorKind } from './types';
