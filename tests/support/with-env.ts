// Sets environment variables around one test body and puts the old values back, also when it fails.

/** Runs `body` with `vars` in process.env (undefined: unset), then restores what was there. */
export async function withEnv<T>(
  vars: Readonly<Record<string, string | undefined>>,
  body: () => T | Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Readonly<Record<string, string | undefined>>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}
