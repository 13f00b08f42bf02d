import { RE2JS } from "re2js";

/**
 * A rule's regular expression, compiled for RE2's linear-time engine (the `re2js` port): matching
 * takes time proportional to the text, whatever the pattern, so no pattern in a schema can stall
 * a consumer the way `(a+)+$` stalls JavaScript's backtracking `RegExp`.
 */
export interface RuleRegex {
  /** Replaces every match, expanding `$1`, `$<name>`, `$&` and `$$` as `String.prototype.replace` does. */
  replaceAll(text: string, replacement: string): string;
}

export type RuleRegexResult =
  | { regex: RuleRegex; problem?: undefined }
  | { regex?: undefined; problem: string };

const FLAG_BITS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always matches by code point; `u` changes nothing.
  u: 0,
};

/**
 * Compiles a rule's pattern (JavaScript syntax, flags of `imsu`) for the linear-time engine.
 * Returns a problem (what is unsupported and what to write instead) for syntax that needs
 * backtracking: backreferences and lookaround. The problem never quotes the pattern.
 */
export function compileRuleRegex(pattern: string, flags: string): RuleRegexResult {
  const unsupported = backtrackingSyntax(pattern);
  if (unsupported) return { problem: unsupported };
  let bits = 0;
  for (const flag of flags) bits |= FLAG_BITS[flag] ?? 0;
  try {
    const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern), bits);
    return {
      regex: { replaceAll: (text, replacement) => compiled.matcher(text).replaceAll(replacement) },
    };
  } catch (error) {
    const detail = (error as Error).message.replace(/^error parsing regexp: /, "").replace(/: `.*`$/s, "");
    return {
      problem: `not a valid regular expression (${detail}); rules use RE2 syntax (https://github.com/google/re2/wiki/Syntax)`,
    };
  }
}

/** Describes the first construct only a backtracking engine can run, or undefined. */
function backtrackingSyntax(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || (next === "k" && pattern[i + 2] === "<"))) {
        return "backreferences (\\1, \\k<name>) need a backtracking engine, which can take exponential time; rules run on RE2 (linear time), which has none: match the repeated text explicitly, or transform the value in a plugin";
      }
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(" && pattern[i + 1] === "?") {
      const head = pattern.slice(i + 2, i + 4);
      if (head.startsWith("=") || head.startsWith("!") || head === "<=" || head === "<!") {
        return 'lookaround ((?=, (?!, (?<=, (?<!) needs a backtracking engine; rules run on RE2 (linear time), which has none: capture the surrounding text in a group and write it back with $1 in "replace"';
      }
    }
  }
  return undefined;
}
