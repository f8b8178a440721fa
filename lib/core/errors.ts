// Typed errors the kit throws: a notebook can show them and the CLI prints their one-line message.

/** Base class: `message` is one complete sentence a learner can act on; `code` is stable for tests. */
export class KitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A dataset file or folder is missing, malformed or inconsistent. `file` names it. */
export class DataError extends KitError {
  constructor(
    code: string,
    readonly file: string,
    message: string,
  ) {
    super(code, `${file}: ${message}`);
  }
}

/** A configuration value (CLI option or config field) is out of range or malformed. */
export class ConfigError extends KitError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('config', `${option}: ${message}`);
  }
}

/** A saved model folder is missing files, truncated, or does not match its config. */
export class ModelFileError extends KitError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('model-file', `${path}: ${message}`);
  }
}

/** A figure could not be drawn to PNG: no headless browser was found, it failed to start, or plotly failed. */
export class RenderError extends KitError {
  constructor(message: string) {
    super('render', message);
  }
}

/** A tool the kit runs (Python with Jupyter's nbclient, the tslab kernel, chromium) is not installed.
 * `tool` names it; the message says how to install it. CLIs exit with code 2. */
export class ToolMissingError extends KitError {
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super('tool-missing', message);
  }
}
