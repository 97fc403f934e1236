// Refuses regular expressions that can backtrack exponentially (user patterns run on the event loop).

/**
 * JavaScript regexes backtrack, so a pattern such as `(a+)+$` or `(a|aa)*b` can take exponential
 * time on a crafted value. Without a linear-time engine, the safe subset is enforced instead: no
 * quantified group that itself contains a quantifier or an alternation, no backreferences, and at
 * most `maxLength` characters. Returns the reason a pattern is refused, or null.
 */
export function unsafeRegexReason(pattern: string, maxLength = 512): string | null {
  if (pattern.length > maxLength) return `longer than ${maxLength} characters`;
  if (/\\[1-9]|\\k</.test(pattern)) return "uses a backreference";
  // A stack of open groups: whether each holds a quantifier or an alternation so far.
  const stack: { risky: boolean }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "[") {
      // Skip a character class: quantifier characters inside it are literal.
      i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      continue;
    }
    if (c === "(") stack.push({ risky: false });
    else if (c === ")") {
      const group = stack.pop();
      const next = pattern[i + 1];
      const quantified = next === "*" || next === "+" || next === "{" || next === "?";
      if (group?.risky && quantified && next !== "?")
        return "repeats a group that holds a quantifier or an alternation";
      if (group?.risky && stack.length > 0) stack[stack.length - 1]!.risky = true;
      if (quantified && stack.length > 0) stack[stack.length - 1]!.risky = true;
    } else if (c === "*" || c === "+" || c === "{" || c === "|") {
      if (stack.length > 0) stack[stack.length - 1]!.risky = true;
    }
  }
  return null;
}
