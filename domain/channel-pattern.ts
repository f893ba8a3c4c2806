/**
 * Channel-rule patterns: the regular-expression syntax admins know, matched in linear time.
 * Pure: no platform imports.
 *
 * Rules run on UTM values an attacker chooses, so a backtracking engine (JavaScript's RegExp)
 * would let one admin typo like `(a+)+` or `(.*)*x` stall ingestion on a crafted value. Patterns
 * are compiled here to a small automaton and run by simulating every path at once (Thompson's
 * construction, as RE2 does): the time is at most the value's length times the program's size,
 * whatever the pattern. What cannot be matched that way (backreferences, lookarounds, word
 * boundaries) is refused with a reason.
 *
 * Supported: literals, `.`, classes `[a-z0-9_]` `[^…]`, `\d \w \s \D \W \S`, escapes such as
 * `\.`, groups `(…)` and `(?:…)`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` (a trailing
 * `?` for laziness is accepted; it changes nothing for a whole-value match), `^` and `$`.
 * Matching is case-insensitive and against the whole value, as `^(?:pattern)$` with `i`.
 */

/** Longest pattern an admin may set. */
export const MAX_PATTERN_CHARS = 200
/** Values longer than this (no real UTM value is) match no pattern. */
export const MAX_MATCHED_CHARS = 200
/** Largest count in `{n,m}`. */
export const MAX_REPEAT = 100
/** Largest compiled program (repeats are expanded), which bounds the cost per character. */
export const MAX_PROGRAM_SIZE = 1_000

export interface ChannelPattern {
  readonly source: string
  /** Steps in the compiled program: the most work `test` does per character of a value. */
  readonly size: number
  test(value: string): boolean
}

export type CompiledPattern = { ok: true; pattern: ChannelPattern } | { ok: false; reason: string }

type CharTest = (c: string) => boolean

type Node =
  | { kind: 'char'; test: CharTest }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; options: Node[] }
  | { kind: 'repeat'; node: Node; min: number; max: number | null }
  | { kind: 'assert'; at: 'start' | 'end' }

type Instruction =
  | { op: 'char'; test: CharTest }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { op: 'assert'; at: 'start' | 'end' }
  | { op: 'match' }

class PatternError extends Error {}

export function compilePattern(source: string): CompiledPattern {
  if (source.length > MAX_PATTERN_CHARS) {
    return {
      ok: false,
      reason: `is ${source.length} characters; the limit is ${MAX_PATTERN_CHARS}`,
    }
  }
  try {
    const program = compile(new Parser(source).parse())
    return {
      ok: true,
      pattern: { source, size: program.length, test: (value) => run(program, value) },
    }
  } catch (error) {
    if (error instanceof PatternError) return { ok: false, reason: error.message }
    throw error
  }
}

/** What `.` does not match, as in JavaScript without the `s` flag. */
const LINE_BREAKS = '\n\r\u2028\u2029'
const DIGIT: CharTest = (c) => c >= '0' && c <= '9'
const WORD: CharTest = (c) =>
  DIGIT(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_'
const SPACE: CharTest = (c) => /\s/.test(c)
const not =
  (test: CharTest): CharTest =>
  (c) =>
    !test(c)
const CLASS_ESCAPES: Record<string, CharTest> = {
  d: DIGIT,
  D: not(DIGIT),
  w: WORD,
  W: not(WORD),
  s: SPACE,
  S: not(SPACE),
}
const CHAR_ESCAPES: Record<string, string> = {
  t: '\t',
  n: '\n',
  r: '\r',
  f: '\f',
  v: '\v',
  0: '\0',
}

/** Case-insensitive, as the `i` flag: a character matches if either of its cases does. */
function anyCase(test: CharTest): CharTest {
  return (c) => test(c) || test(c.toLowerCase()) || test(c.toUpperCase())
}

class Parser {
  private pos = 0
  constructor(private readonly source: string) {}

  parse(): Node {
    const node = this.alternation()
    if (this.pos < this.source.length) throw this.error(`unmatched ")"`)
    return node
  }

  private error(message: string) {
    return new PatternError(`${message} at position ${this.pos}`)
  }

  private peek(offset = 0) {
    return this.source[this.pos + offset]
  }

  private alternation(): Node {
    const options = [this.sequence()]
    while (this.peek() === '|') {
      this.pos++
      options.push(this.sequence())
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options }
  }

  private sequence(): Node {
    const items: Node[] = []
    while (this.pos < this.source.length && this.peek() !== '|' && this.peek() !== ')') {
      items.push(this.repeat())
    }
    return items.length === 1 ? items[0]! : { kind: 'seq', items }
  }

  private repeat(): Node {
    const start = this.pos
    const atom = this.atom()
    const bounds = this.quantifier()
    if (!bounds) return atom
    if (atom.kind === 'assert') {
      this.pos = start
      throw this.error('"^" and "$" cannot be repeated')
    }
    if (this.peek() === '?') this.pos++ // lazy: the same whole-value match
    if ('*+?{'.includes(this.peek() ?? '.')) throw this.error('nothing to repeat')
    return { kind: 'repeat', node: atom, ...bounds }
  }

  private quantifier(): { min: number; max: number | null } | null {
    const ch = this.peek()
    if (ch === '*' || ch === '+' || ch === '?') {
      this.pos++
      return { min: ch === '+' ? 1 : 0, max: ch === '?' ? 1 : null }
    }
    if (ch !== '{') return null
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.pos))
    if (!match) throw this.error('a literal "{" must be escaped as "\\{"')
    const min = Number(match[1])
    const max = match[2] === undefined ? min : match[3] === '' ? null : Number(match[3])
    if (min > MAX_REPEAT || (max !== null && max > MAX_REPEAT)) {
      throw this.error(`a repeat count over ${MAX_REPEAT}`)
    }
    if (max !== null && max < min) throw this.error('a repeat {n,m} with m below n')
    this.pos += match[0].length
    return { min, max }
  }

  private atom(): Node {
    const ch = this.source[this.pos++]!
    switch (ch) {
      case '(':
        return this.group()
      case '[':
        return { kind: 'char', test: anyCase(this.characterClass()) }
      case '.':
        return { kind: 'char', test: (c) => !LINE_BREAKS.includes(c) }
      case '^':
        return { kind: 'assert', at: 'start' }
      case '$':
        return { kind: 'assert', at: 'end' }
      case '\\': {
        const escaped = this.escape(false)
        return { kind: 'char', test: typeof escaped === 'string' ? literal(escaped) : escaped }
      }
      case '*':
      case '+':
      case '?':
        this.pos--
        throw this.error('nothing to repeat')
      case '{':
        this.pos--
        throw this.error('a literal "{" must be escaped as "\\{"')
      default:
        return { kind: 'char', test: literal(ch) }
    }
  }

  private group(): Node {
    if (this.peek() === '?') {
      const kind = this.source.slice(this.pos, this.pos + 3)
      if (kind.startsWith('?:')) this.pos += 2
      else if (kind.startsWith('?=') || kind.startsWith('?!') || /^\?<[=!]/.test(kind)) {
        throw this.error('lookarounds ("(?=", "(?!", "(?<=", "(?<!") are not supported')
      } else throw this.error('only plain "(…)" and non-capturing "(?:…)" groups are supported')
    }
    const inner = this.alternation()
    if (this.peek() !== ')') throw this.error('unclosed "("')
    this.pos++
    return inner
  }

  private characterClass(): CharTest {
    const negate = this.peek() === '^'
    if (negate) this.pos++
    const tests: CharTest[] = []
    for (;;) {
      if (this.pos >= this.source.length) throw this.error('unclosed "["')
      const ch = this.source[this.pos++]!
      if (ch === ']') break
      const first = ch === '\\' ? this.escape(true) : ch
      if (typeof first !== 'string') {
        tests.push(first)
        continue
      }
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++
        const endCh = this.source[this.pos++]!
        const last = endCh === '\\' ? this.escape(true) : endCh
        if (typeof last !== 'string') throw this.error('a range cannot end in a class escape')
        if (last < first) throw this.error(`the range ${first}-${last} is out of order`)
        tests.push((c) => c >= first && c <= last)
      } else {
        tests.push(literal(first))
      }
    }
    const inClass: CharTest = (c) => tests.some((test) => test(c))
    return negate ? not(inClass) : inClass
  }

  /** After a backslash: a single character, or a class such as `\d`. */
  private escape(inClass: boolean): string | CharTest {
    const ch = this.source[this.pos++]
    if (ch === undefined) throw this.error('a pattern cannot end in "\\"')
    if (CLASS_ESCAPES[ch]) return CLASS_ESCAPES[ch]
    if (CHAR_ESCAPES[ch]) return CHAR_ESCAPES[ch]
    if (ch === 'x' || ch === 'u') {
      const digits = ch === 'x' ? 2 : 4
      const hex = this.source.slice(this.pos, this.pos + digits)
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) {
        throw this.error(`"\\${ch}" needs ${digits} hex digits`)
      }
      this.pos += digits
      return String.fromCharCode(parseInt(hex, 16))
    }
    if (ch === 'b' && inClass) return '\b'
    if (/[1-9]|k/.test(ch)) throw this.error('backreferences are not supported')
    if (ch === 'b' || ch === 'B') throw this.error('word boundaries ("\\b") are not supported')
    if (/[A-Za-z0-9]/.test(ch)) throw this.error(`unknown escape "\\${ch}"`)
    return ch
  }
}

function literal(ch: string): CharTest {
  const lower = ch.toLowerCase()
  const upper = ch.toUpperCase()
  return (c) => c === ch || c === lower || c === upper || c.toLowerCase() === lower
}

function compile(node: Node): Instruction[] {
  const program: Instruction[] = []
  const push = (instruction: Instruction) => {
    if (program.length >= MAX_PROGRAM_SIZE) {
      throw new PatternError(`expands to more than ${MAX_PROGRAM_SIZE} steps; use smaller repeats`)
    }
    program.push(instruction)
    return program.length - 1
  }
  const emit = (node: Node): void => {
    switch (node.kind) {
      case 'char':
        push({ op: 'char', test: node.test })
        return
      case 'assert':
        push({ op: 'assert', at: node.at })
        return
      case 'seq':
        for (const item of node.items) emit(item)
        return
      case 'alt': {
        const jumps: number[] = []
        node.options.forEach((option, i) => {
          if (i === node.options.length - 1) return emit(option)
          const split = push({ op: 'split', x: 0, y: 0 })
          emit(option)
          jumps.push(push({ op: 'jmp', x: 0 }))
          program[split] = { op: 'split', x: split + 1, y: program.length }
        })
        for (const jump of jumps) program[jump] = { op: 'jmp', x: program.length }
        return
      }
      case 'repeat': {
        for (let i = 0; i < node.min; i++) emit(node.node)
        if (node.max === null) {
          const split = push({ op: 'split', x: 0, y: 0 })
          emit(node.node)
          push({ op: 'jmp', x: split })
          program[split] = { op: 'split', x: split + 1, y: program.length }
          return
        }
        const splits: number[] = []
        for (let i = node.min; i < node.max; i++) {
          splits.push(push({ op: 'split', x: 0, y: 0 }))
          emit(node.node)
        }
        for (const split of splits)
          program[split] = { op: 'split', x: split + 1, y: program.length }
        return
      }
    }
  }
  emit(node)
  push({ op: 'match' })
  return program
}

/** Every path through the program at once: one set of positions per character of the value. */
function run(program: Instruction[], input: string): boolean {
  const value = input.trim()
  if (value.length > MAX_MATCHED_CHARS) return false
  const seen = new Int32Array(program.length).fill(-1)
  let step = 0
  const add = (list: number[], pc: number, at: number) => {
    if (seen[pc] === step) return
    seen[pc] = step
    const instruction = program[pc]!
    switch (instruction.op) {
      case 'jmp':
        return add(list, instruction.x, at)
      case 'split':
        add(list, instruction.x, at)
        return add(list, instruction.y, at)
      case 'assert':
        if (instruction.at === 'start' ? at === 0 : at === value.length) add(list, pc + 1, at)
        return
      default:
        list.push(pc)
    }
  }
  let current: number[] = []
  add(current, 0, 0)
  for (let at = 0; at < value.length && current.length > 0; at++) {
    const c = value[at]!
    const next: number[] = []
    step++
    for (const pc of current) {
      const instruction = program[pc]!
      if (instruction.op === 'char' && instruction.test(c)) add(next, pc + 1, at + 1)
    }
    current = next
  }
  return current.some((pc) => program[pc]!.op === 'match')
}
