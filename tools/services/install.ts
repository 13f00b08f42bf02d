import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { hasCommand, run } from "./process";
import { type ServiceName, ServiceStartError } from "./types";

let aptUpdated = false;

/** Installs Debian packages when they are missing (needs root, as on this project's machines). */
export async function ensureDebianPackages(service: ServiceName, packages: string[]): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) {
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
      const status = await run("dpkg-query", ["-W", "-f=${Status}", pkg]);
      if (!status.includes("install ok installed")) missing.push(pkg);
    } catch {
      missing.push(pkg);
    }
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new ServiceStartError(
      service,
      `missing Debian packages: ${missing.join(", ")}`,
      `run: sudo apt-get install -y ${missing.join(" ")}`,
    );
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    if (!aptUpdated) {
      await run("apt-get", ["update", "-qq"], { env });
      aptUpdated = true;
    }
    await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env });
  } catch (cause) {
    throw new ServiceStartError(
      service,
      `apt-get install ${missing.join(" ")} failed`,
      "see the apt output above",
      {
        cause,
      },
    );
  }
}

/** A Maven Central artifact, `group:artifact:version[:packaging]`. */
export interface MavenArtifact {
  group: string;
  artifact: string;
  version: string;
  packaging?: string;
}

/** Path of an artifact in the local Maven repository, fetched with `mvn dependency:get` if absent. */
export async function ensureMavenArtifact(
  service: ServiceName,
  a: MavenArtifact,
  transitive = false,
): Promise<string> {
  const packaging = a.packaging ?? "jar";
  const file = join(
    homedir(),
    ".m2/repository",
    ...a.group.split("."),
    a.artifact,
    a.version,
    `${a.artifact}-${a.version}.${packaging}`,
  );
  if (existsSync(file)) return file;
  if (!(await hasCommand("mvn"))) {
    throw new ServiceStartError(
      service,
      "Maven (mvn) is not installed",
      "install it: apt-get install -y maven",
    );
  }
  try {
    await run("mvn", [
      "-q",
      "-B",
      "dependency:get",
      `-Dartifact=${a.group}:${a.artifact}:${a.version}:${packaging}`,
      `-Dtransitive=${transitive}`,
    ]);
  } catch (cause) {
    throw new ServiceStartError(
      service,
      `could not fetch ${a.group}:${a.artifact}:${a.version} from Maven Central`,
      "check network access to Maven Central",
      { cause },
    );
  }
  return file;
}

/** Extracts a zip into `cacheDir/<name>` once; returns the single top-level folder inside. */
export async function ensureExtracted(
  service: ServiceName,
  zip: string,
  cacheDir: string,
  name: string,
): Promise<string> {
  const target = join(cacheDir, name);
  if (!existsSync(join(target, ".complete"))) {
    rmSync(target, { recursive: true, force: true });
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      await extractZip(zip, tmp);
    } catch (cause) {
      throw new ServiceStartError(
        service,
        `could not extract ${zip}`,
        "install unzip (apt-get install -y unzip)",
        {
          cause,
        },
      );
    }
    renameSync(tmp, target);
    await run("touch", [join(target, ".complete")]);
  }
  const inner = readdirSync(target).filter((f) => f !== ".complete");
  if (inner.length !== 1 || inner[0] === undefined)
    throw new ServiceStartError(service, `unexpected layout in ${target}`, `delete ${target} and retry`);
  return join(target, inner[0]);
}

async function extractZip(zip: string, into: string): Promise<void> {
  if (await hasCommand("unzip")) {
    await run("unzip", ["-q", zip, "-d", into]);
    return;
  }
  // Python's zipfile is always present on these machines; keep executable bits by hand.
  await run("python3", [
    "-c",
    "import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist():\n  p=z.extract(i,sys.argv[2])\n  m=(i.external_attr>>16)&0o777\n  m and os.chmod(p,m)",
    zip,
    into,
  ]);
}

/** Installs a PyPI package with pip when `probe` (a Python import) fails. */
export async function ensurePythonPackage(
  service: ServiceName,
  probe: string,
  requirement: string,
): Promise<void> {
  try {
    await run("python3", ["-c", probe]);
    return;
  } catch {
    // Not installed yet.
  }
  try {
    await run("python3", ["-m", "pip", "install", "-q", requirement]);
  } catch (cause) {
    throw new ServiceStartError(service, `pip install ${requirement} failed`, "check Python 3 and pip", {
      cause,
    });
  }
}
