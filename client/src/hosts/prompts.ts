// The engine's questions (unknown host key, passphrase, password) answered with VS Code UI.
// Secrets never reach settings or logs: a remembered passphrase lives in SecretStorage only.
import * as vscode from 'vscode';
import type { Prompts } from './engine';
import { display } from './items';

// A stored passphrase asked for again this soon was wrong: forget it and ask the user.
const RETRY_WINDOW_MS = 30_000;
const INDEX_KEY = 'certops.passphrases';

/** The parts of `vscode.window` the prompts use (tests answer them without a person). */
export type PromptUi = Pick<typeof vscode.window, 'showWarningMessage' | 'showInputBox'>;

/** Prompts with modal dialogs and password input boxes. */
export class VsCodePrompts implements Prompts {
  private readonly lastStoredAnswer = new Map<string, number>();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    /** Which identity files have a stored passphrase (their paths only), so they can all be forgotten. */
    private readonly index: vscode.Memento,
    private readonly remember: () => boolean,
    private readonly ui: PromptUi = vscode.window,
  ) {}

  private stored(): string[] {
    return this.index.get<string[]>(INDEX_KEY, []);
  }

  async unknownHostKey(info: { host: string; port: number; keyType: string; sha256: string }): Promise<'once' | 'save' | 'cancel'> {
    const once = 'Accept Once';
    const save = 'Accept and Save';
    const choice = await this.ui.showWarningMessage(
      `The authenticity of host ${display(info.host)}${info.port === 22 ? '' : ` port ${info.port}`} cannot be established.`,
      {
        modal: true,
        detail: `Its ${info.keyType} key fingerprint is\n${info.sha256}\n\nCompare it with the fingerprint the host's administrator gives you (ssh-keygen -lf on the host's public key). "Accept and Save" adds the key to your known_hosts file.`,
      },
      once,
      save,
    );
    return choice === once ? 'once' : choice === save ? 'save' : 'cancel';
  }

  async passphrase(info: { identityFile: string; host: string }): Promise<string | undefined> {
    const key = `certops.passphrase:${info.identityFile}`;
    const remember = this.remember();
    if (remember) {
      const stored = await this.secrets.get(key);
      const last = this.lastStoredAnswer.get(key);
      if (stored !== undefined && (last === undefined || Date.now() - last > RETRY_WINDOW_MS)) {
        this.lastStoredAnswer.set(key, Date.now());
        return stored;
      }
      if (stored !== undefined) await this.secrets.delete(key);
    }
    const value = await this.ui.showInputBox({
      title: 'Cert Ops: SSH key passphrase',
      prompt: `Passphrase for ${display(info.identityFile)} (connecting to ${display(info.host)})${remember ? '; it will be kept in VS Code\'s secret storage' : ''}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value !== undefined && remember) {
      await this.secrets.store(key, value);
      if (!this.stored().includes(info.identityFile)) await this.index.update(INDEX_KEY, [...this.stored(), info.identityFile]);
      this.lastStoredAnswer.set(key, Date.now());
    }
    return value;
  }

  password(info: { user: string; host: string }): Promise<string | undefined> {
    return Promise.resolve(
      this.ui.showInputBox({ title: 'Cert Ops: SSH password', prompt: `Password for ${display(`${info.user}@${info.host}`)}`, password: true, ignoreFocusOut: true }),
    );
  }

  /** Removes every passphrase this extension stored; returns how many. */
  async forgetAll(): Promise<number> {
    const files = this.stored();
    for (const f of files) await this.secrets.delete(`certops.passphrase:${f}`);
    await this.index.update(INDEX_KEY, []);
    this.lastStoredAnswer.clear();
    return files.length;
  }
}
