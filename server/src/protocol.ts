/**
 * The custom messages between the certops extension and its language server,
 * imported by both sides so the method names and shapes have one definition.
 * Plain names and types only: each side sends them with its own connection.
 */

/** The URI scheme of files read from inventory hosts over SSH: `certops-remote:/HOST/abs/path`
 * (read-only; the host is the first path segment, since a URI authority is lower-cased). */
export const REMOTE_SCHEME = 'certops-remote';

/** True for a document that lives on an inventory host rather than on this machine's disk. */
export function isRemoteUri(uri: string): boolean {
  return uri.startsWith(`${REMOTE_SCHEME}:`);
}

/**
 * Sent by the server to the client: the bytes of a sibling of a remote
 * document (a key beside a certificate, or the other way round), which the
 * server cannot read from its own disk. The client answers `null` when the
 * file is missing, unreadable, larger than `maxBytes`, or not of a scheme it serves.
 */
export const ReadSiblingRequest = {
  method: 'certops/readSibling',
} as const;

/** Parameters of `certops/readSibling`. */
export interface ReadSiblingParams {
  /** The sibling's URI, same scheme and directory as the document that asks. */
  uri: string;
  /** Larger files are not a key or certificate worth pairing: answer null. */
  maxBytes: number;
}

/** Result of `certops/readSibling`: the file's bytes in base64, or null. */
export type ReadSiblingResult = { data: string } | null;
