// Printing the Python-subset AST to source. Parentheses follow Python's precedence table (the
// "Operator precedence" section of the language reference), so that `ast.parse(print(tree))` gives the
// same tree back; the round-trip test checks exactly that on the real interpreter.
import { headerSafe } from '../text.js';
import type { CmpOpName, ConstantValue, Expr, Module, OperatorName, Stmt, Arguments, ExceptHandler } from './ast.js';

// Higher binds tighter.
const enum P {
  Tuple = 0,
  Lambda = 1,
  IfExp = 2,
  Or = 3,
  And = 4,
  Not = 5,
  Cmp = 6,
  BitOr = 7,
  BitXor = 8,
  BitAnd = 9,
  Shift = 10,
  Arith = 11,
  Term = 12,
  Unary = 13,
  Power = 14,
  Atom = 16,
}

const BIN: Record<OperatorName, [string, P]> = {
  Add: ['+', P.Arith], Sub: ['-', P.Arith], Mult: ['*', P.Term], MatMult: ['@', P.Term], Div: ['/', P.Term],
  Mod: ['%', P.Term], FloorDiv: ['//', P.Term], Pow: ['**', P.Power], LShift: ['<<', P.Shift], RShift: ['>>', P.Shift],
  BitOr: ['|', P.BitOr], BitXor: ['^', P.BitXor], BitAnd: ['&', P.BitAnd],
};
const CMP: Record<CmpOpName, string> = {
  Eq: '==', NotEq: '!=', Lt: '<', LtE: '<=', Gt: '>', GtE: '>=', Is: 'is', IsNot: 'is not', In: 'in', NotIn: 'not in',
};

/** A Python string literal with the same value (escapes everything outside printable ASCII). */
export function pyStr(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === "'") out += "\\'";
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return `${out}'`;
}

function pyBytes(hex: string): string {
  let out = "b'";
  for (let i = 0; i < hex.length; i += 2) {
    const c = parseInt(hex.slice(i, i + 2), 16);
    const ch = String.fromCharCode(c);
    if (ch === "'") out += "\\'";
    else if (ch === '\\') out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}

function constant(v: ConstantValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyStr(v);
  if ('$int' in v) return v.$int;
  if ('$float' in v) return v.$float;
  if ('$bytes' in v) return pyBytes(v.$bytes);
  return '...';
}

function args(a: Arguments): string {
  const parts: string[] = [];
  const positional = [...a.posonlyargs, ...a.args];
  const firstDefault = positional.length - a.defaults.length;
  positional.forEach((p, i) => {
    const d = i >= firstDefault ? a.defaults[i - firstDefault] : undefined;
    parts.push(d ? `${p.arg}=${expr(d, P.Lambda + 1)}` : p.arg);
    if (a.posonlyargs.length > 0 && i === a.posonlyargs.length - 1) parts.push('/');
  });
  if (a.vararg) parts.push(`*${a.vararg.arg}`);
  else if (a.kwonlyargs.length > 0) parts.push('*');
  a.kwonlyargs.forEach((p, i) => {
    const d = a.kw_defaults[i];
    parts.push(d ? `${p.arg}=${expr(d, P.Lambda + 1)}` : p.arg);
  });
  if (a.kwarg) parts.push(`**${a.kwarg.arg}`);
  return parts.join(', ');
}

function wrap(text: string, own: P, context: P): string {
  return own < context ? `(${text})` : text;
}

/** Print an expression in a context that needs at least precedence `context`. */
export function expr(e: Expr, context: P = P.Tuple): string {
  switch (e._type) {
    case 'Constant': {
      const text = constant(e.value);
      // `1 .real` would need a space; a parenthesized int is simpler and parses the same.
      return context === P.Atom && typeof e.value === 'object' && e.value !== null && ('$int' in e.value || '$float' in e.value) ? `(${text})` : text;
    }
    case 'Name':
      return e.id;
    case 'Attribute':
      return `${expr(e.value, P.Atom)}.${e.attr}`;
    case 'Subscript': {
      const s = e.slice;
      const inner = s._type === 'Tuple' && s.elts.length > 0 ? s.elts.map((x) => expr(x, P.Lambda)).join(', ') + (s.elts.length === 1 ? ',' : '') : expr(s, P.Tuple);
      return `${expr(e.value, P.Atom)}[${inner}]`;
    }
    case 'Slice':
      return `${e.lower ? expr(e.lower, P.Lambda) : ''}:${e.upper ? expr(e.upper, P.Lambda) : ''}${e.step ? `:${expr(e.step, P.Lambda)}` : ''}`;
    case 'Starred':
      return `*${expr(e.value, P.BitOr)}`;
    case 'List':
      return `[${e.elts.map((x) => expr(x, P.Lambda)).join(', ')}]`;
    case 'Tuple': {
      if (e.elts.length === 0) return '()';
      const inner = e.elts.map((x) => expr(x, P.Lambda)).join(', ') + (e.elts.length === 1 ? ',' : '');
      return `(${inner})`;
    }
    case 'Set':
      // `{}` is a dict: an empty set has no literal, and the subset never builds one.
      return `{${e.elts.map((x) => expr(x, P.Lambda)).join(', ')}}`;
    case 'Dict':
      return `{${e.keys.map((k, i) => (k === null ? `**${expr(e.values[i] as Expr, P.BitOr)}` : `${expr(k, P.Lambda)}: ${expr(e.values[i] as Expr, P.Lambda)}`)).join(', ')}}`;
    case 'Call': {
      const parts = [
        ...e.args.map((a) => expr(a, P.Lambda)),
        ...e.keywords.map((k) => (k.arg === null ? `**${expr(k.value, P.BitOr)}` : `${k.arg}=${expr(k.value, P.Lambda)}`)),
      ];
      // A lone generator expression argument keeps its own parentheses: f((x for x in y)) is valid.
      return `${expr(e.func, P.Atom)}(${parts.join(', ')})`;
    }
    case 'BinOp': {
      const [sym, prec] = BIN[e.op._type];
      // ** is right-associative; everything else is left-associative.
      const leftCtx = e.op._type === 'Pow' ? prec + 1 : prec;
      const rightCtx = e.op._type === 'Pow' ? P.Unary : prec + 1;
      return wrap(`${expr(e.left, leftCtx)} ${sym} ${expr(e.right, rightCtx)}`, prec, context);
    }
    case 'UnaryOp': {
      if (e.op._type === 'Not') return wrap(`not ${expr(e.operand, P.Not)}`, P.Not, context);
      const sym = { Invert: '~', UAdd: '+', USub: '-' }[e.op._type];
      return wrap(`${sym}${expr(e.operand, P.Unary)}`, P.Unary, context);
    }
    case 'BoolOp': {
      const prec = e.op._type === 'And' ? P.And : P.Or;
      const word = e.op._type === 'And' ? ' and ' : ' or ';
      return wrap(e.values.map((v) => expr(v, prec + 1)).join(word), prec, context);
    }
    case 'Compare': {
      let text = expr(e.left, P.Cmp + 1);
      e.ops.forEach((op, i) => {
        text += ` ${CMP[op._type]} ${expr(e.comparators[i] as Expr, P.Cmp + 1)}`;
      });
      return wrap(text, P.Cmp, context);
    }
    case 'IfExp':
      return wrap(`${expr(e.body, P.Or)} if ${expr(e.test, P.Or)} else ${expr(e.orelse, P.IfExp)}`, P.IfExp, context);
    case 'Lambda': {
      const a = args(e.args);
      return wrap(`lambda${a ? ` ${a}` : ''}: ${expr(e.body, P.Lambda)}`, P.Lambda, context);
    }
    case 'ListComp':
    case 'SetComp':
    case 'GeneratorExp':
    case 'DictComp': {
      const gens = e.generators
        .map((g) => ` for ${expr(g.target, P.BitOr)} in ${expr(g.iter, P.Or)}${g.ifs.map((c) => ` if ${expr(c, P.Or)}`).join('')}`)
        .join('');
      if (e._type === 'ListComp') return `[${expr(e.elt, P.Lambda)}${gens}]`;
      if (e._type === 'SetComp') return `{${expr(e.elt, P.Lambda)}${gens}}`;
      if (e._type === 'DictComp') return `{${expr(e.key, P.Lambda)}: ${expr(e.value, P.Lambda)}${gens}}`;
      return `(${expr(e.elt, P.Lambda)}${gens})`;
    }
  }
}

function targetList(e: Expr): string {
  // Assignment and for-loop targets print a tuple without parentheses only when it is non-empty.
  if (e._type === 'Tuple' && e.elts.length > 0) return e.elts.map((x) => expr(x, P.BitOr)).join(', ') + (e.elts.length === 1 ? ',' : '');
  return expr(e, P.Tuple);
}

function block(body: Stmt[], indent: string): string[] {
  return body.length === 0 ? [`${indent}    pass`] : body.flatMap((s) => stmt(s, `${indent}    `));
}

function handler(h: ExceptHandler, indent: string): string[] {
  const head = h.type ? ` ${expr(h.type, P.Lambda)}${h.name ? ` as ${h.name}` : ''}` : '';
  return [`${indent}except${head}:`, ...block(h.body, indent)];
}

function elseChain(orelse: Stmt[], indent: string): string[] {
  const only = orelse[0];
  if (orelse.length === 1 && only?._type === 'If') {
    return [`${indent}elif ${expr(only.test)}:`, ...block(only.body, indent), ...(only.orelse.length ? elseChain(only.orelse, indent) : [])];
  }
  return [`${indent}else:`, ...block(orelse, indent)];
}

export function stmt(s: Stmt, indent = ''): string[] {
  switch (s._type) {
    case 'Expr':
      return [`${indent}${expr(s.value)}`];
    case 'Assign':
      return [`${indent}${s.targets.map(targetList).join(' = ')} = ${expr(s.value)}`];
    case 'AugAssign':
      return [`${indent}${expr(s.target)} ${BIN[s.op._type][0]}= ${expr(s.value)}`];
    case 'Return':
      return [`${indent}return${s.value ? ` ${expr(s.value)}` : ''}`];
    case 'Delete':
      return [`${indent}del ${s.targets.map((t) => expr(t, P.BitOr)).join(', ')}`];
    case 'Pass':
      return [`${indent}pass`];
    case 'Break':
      return [`${indent}break`];
    case 'Continue':
      return [`${indent}continue`];
    case 'Global':
      return [`${indent}global ${s.names.join(', ')}`];
    case 'Nonlocal':
      return [`${indent}nonlocal ${s.names.join(', ')}`];
    case 'Import':
      return [`${indent}import ${s.names.map((a) => (a.asname ? `${a.name} as ${a.asname}` : a.name)).join(', ')}`];
    case 'ImportFrom':
      return [`${indent}from ${'.'.repeat(s.level)}${s.module ?? ''} import ${s.names.map((a) => (a.asname ? `${a.name} as ${a.asname}` : a.name)).join(', ')}`];
    case 'Raise':
      return [`${indent}raise${s.exc ? ` ${expr(s.exc)}` : ''}${s.cause ? ` from ${expr(s.cause)}` : ''}`];
    case 'Assert':
      return [`${indent}assert ${expr(s.test)}${s.msg ? `, ${expr(s.msg)}` : ''}`];
    case 'If':
      return [`${indent}if ${expr(s.test)}:`, ...block(s.body, indent), ...(s.orelse.length ? elseChain(s.orelse, indent) : [])];
    case 'While':
      return [`${indent}while ${expr(s.test)}:`, ...block(s.body, indent), ...(s.orelse.length ? [`${indent}else:`, ...block(s.orelse, indent)] : [])];
    case 'For':
      return [
        `${indent}for ${targetList(s.target)} in ${expr(s.iter)}:`,
        ...block(s.body, indent),
        ...(s.orelse.length ? [`${indent}else:`, ...block(s.orelse, indent)] : []),
      ];
    case 'With':
      return [
        `${indent}with ${s.items.map((i) => `${expr(i.context_expr, P.Lambda)}${i.optional_vars ? ` as ${expr(i.optional_vars, P.BitOr)}` : ''}`).join(', ')}:`,
        ...block(s.body, indent),
      ];
    case 'Try':
      return [
        `${indent}try:`,
        ...block(s.body, indent),
        ...s.handlers.flatMap((h) => handler(h, indent)),
        ...(s.orelse.length ? [`${indent}else:`, ...block(s.orelse, indent)] : []),
        ...(s.finalbody.length ? [`${indent}finally:`, ...block(s.finalbody, indent)] : []),
      ];
    case 'FunctionDef':
      return [
        ...s.decorator_list.map((d) => `${indent}@${expr(d)}`),
        `${indent}def ${s.name}(${args(s.args)}):`,
        ...block(s.body, indent),
      ];
    case 'ClassDef': {
      const bases = [...s.bases.map((b) => expr(b, P.Lambda)), ...s.keywords.map((k) => `${k.arg}=${expr(k.value, P.Lambda)}`)];
      return [
        ...s.decorator_list.map((d) => `${indent}@${expr(d)}`),
        `${indent}class ${s.name}${bases.length ? `(${bases.join(', ')})` : ''}:`,
        ...block(s.body, indent),
      ];
    }
  }
}

/** The whole module, with an optional header of comment lines. */
export function printModule(module: Module, header: string[] = []): string {
  // Every header line stays one comment line whatever it holds (a newline in a seed or a name would start code).
  const lines = [...header.map((h) => (h ? `# ${headerSafe(h)}` : '#')), ...module.body.flatMap((s) => stmt(s))];
  return `${lines.join('\n')}\n`;
}
