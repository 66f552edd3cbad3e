// A Python-subset AST whose node names and fields mirror CPython's `ast` module (3.13), so a tree
// compares field by field with `ast.parse(source)` dumped as JSON (python/ftfuzz_ast.py). Position
// attributes (lineno, col_offset, ...) are not modelled. Constants that JSON cannot carry exactly are
// tagged: ints as {$int: "123"} (Python ints are unbounded), floats as {$float: repr}, bytes as
// {$bytes: hex}, `...` as {$ellipsis: true}.

export type PyInt = { $int: string };
export type PyFloat = { $float: string };
export type PyBytes = { $bytes: string };
export type PyEllipsis = { $ellipsis: true };
export type ConstantValue = null | boolean | string | PyInt | PyFloat | PyBytes | PyEllipsis;

export type ExprContext = { _type: 'Load' } | { _type: 'Store' } | { _type: 'Del' };
export type BoolOpKind = { _type: 'And' } | { _type: 'Or' };
export type OperatorName = 'Add' | 'Sub' | 'Mult' | 'MatMult' | 'Div' | 'Mod' | 'Pow' | 'LShift' | 'RShift' | 'BitOr' | 'BitXor' | 'BitAnd' | 'FloorDiv';
export type Operator = { _type: OperatorName };
export type UnaryOpName = 'Invert' | 'Not' | 'UAdd' | 'USub';
export type CmpOpName = 'Eq' | 'NotEq' | 'Lt' | 'LtE' | 'Gt' | 'GtE' | 'Is' | 'IsNot' | 'In' | 'NotIn';

export interface Constant { _type: 'Constant'; value: ConstantValue; kind: null }
export interface Name { _type: 'Name'; id: string; ctx: ExprContext }
export interface Attribute { _type: 'Attribute'; value: Expr; attr: string; ctx: ExprContext }
export interface Subscript { _type: 'Subscript'; value: Expr; slice: Expr; ctx: ExprContext }
export interface Slice { _type: 'Slice'; lower: Expr | null; upper: Expr | null; step: Expr | null }
export interface Starred { _type: 'Starred'; value: Expr; ctx: ExprContext }
export interface List { _type: 'List'; elts: Expr[]; ctx: ExprContext }
export interface Tuple { _type: 'Tuple'; elts: Expr[]; ctx: ExprContext }
export interface Dict { _type: 'Dict'; keys: (Expr | null)[]; values: Expr[] }
export interface PySet { _type: 'Set'; elts: Expr[] }
export interface Call { _type: 'Call'; func: Expr; args: Expr[]; keywords: Keyword[] }
export interface Keyword { _type: 'keyword'; arg: string | null; value: Expr }
export interface BinOp { _type: 'BinOp'; left: Expr; op: Operator; right: Expr }
export interface UnaryOp { _type: 'UnaryOp'; op: { _type: UnaryOpName }; operand: Expr }
export interface BoolOp { _type: 'BoolOp'; op: BoolOpKind; values: Expr[] }
export interface Compare { _type: 'Compare'; left: Expr; ops: { _type: CmpOpName }[]; comparators: Expr[] }
export interface IfExp { _type: 'IfExp'; test: Expr; body: Expr; orelse: Expr }
export interface Lambda { _type: 'Lambda'; args: Arguments; body: Expr }
export interface Comprehension { _type: 'comprehension'; target: Expr; iter: Expr; ifs: Expr[]; is_async: 0 | 1 }
export interface ListComp { _type: 'ListComp'; elt: Expr; generators: Comprehension[] }
export interface SetComp { _type: 'SetComp'; elt: Expr; generators: Comprehension[] }
export interface GeneratorExp { _type: 'GeneratorExp'; elt: Expr; generators: Comprehension[] }
export interface DictComp { _type: 'DictComp'; key: Expr; value: Expr; generators: Comprehension[] }

export type Expr =
  | Constant | Name | Attribute | Subscript | Slice | Starred | List | Tuple | Dict | PySet | Call | BinOp
  | UnaryOp | BoolOp | Compare | IfExp | Lambda | ListComp | SetComp | GeneratorExp | DictComp;

export interface Arg { _type: 'arg'; arg: string; annotation: Expr | null; type_comment: null }
export interface Arguments {
  _type: 'arguments';
  posonlyargs: Arg[];
  args: Arg[];
  vararg: Arg | null;
  kwonlyargs: Arg[];
  kw_defaults: (Expr | null)[];
  kwarg: Arg | null;
  defaults: Expr[];
}
export interface Alias { _type: 'alias'; name: string; asname: string | null }
export interface WithItem { _type: 'withitem'; context_expr: Expr; optional_vars: Expr | null }
export interface ExceptHandler { _type: 'ExceptHandler'; type: Expr | null; name: string | null; body: Stmt[] }

export interface FunctionDef {
  _type: 'FunctionDef';
  name: string;
  args: Arguments;
  body: Stmt[];
  decorator_list: Expr[];
  returns: Expr | null;
  type_comment: null;
  type_params: never[];
}
export interface ClassDef {
  _type: 'ClassDef';
  name: string;
  bases: Expr[];
  keywords: Keyword[];
  body: Stmt[];
  decorator_list: Expr[];
  type_params: never[];
}
export interface Return { _type: 'Return'; value: Expr | null }
export interface Delete { _type: 'Delete'; targets: Expr[] }
export interface Assign { _type: 'Assign'; targets: Expr[]; value: Expr; type_comment: null }
export interface AugAssign { _type: 'AugAssign'; target: Name | Attribute | Subscript; op: Operator; value: Expr }
export interface For { _type: 'For'; target: Expr; iter: Expr; body: Stmt[]; orelse: Stmt[]; type_comment: null }
export interface While { _type: 'While'; test: Expr; body: Stmt[]; orelse: Stmt[] }
export interface If { _type: 'If'; test: Expr; body: Stmt[]; orelse: Stmt[] }
export interface With { _type: 'With'; items: WithItem[]; body: Stmt[]; type_comment: null }
export interface Raise { _type: 'Raise'; exc: Expr | null; cause: Expr | null }
export interface Try { _type: 'Try'; body: Stmt[]; handlers: ExceptHandler[]; orelse: Stmt[]; finalbody: Stmt[] }
export interface Assert { _type: 'Assert'; test: Expr; msg: Expr | null }
export interface Import { _type: 'Import'; names: Alias[] }
export interface ImportFrom { _type: 'ImportFrom'; module: string | null; names: Alias[]; level: number }
export interface Global { _type: 'Global'; names: string[] }
export interface Nonlocal { _type: 'Nonlocal'; names: string[] }
export interface ExprStmt { _type: 'Expr'; value: Expr }
export interface Pass { _type: 'Pass' }
export interface Break { _type: 'Break' }
export interface Continue { _type: 'Continue' }

export type Stmt =
  | FunctionDef | ClassDef | Return | Delete | Assign | AugAssign | For | While | If | With | Raise | Try
  | Assert | Import | ImportFrom | Global | Nonlocal | ExprStmt | Pass | Break | Continue;

export interface Module { _type: 'Module'; body: Stmt[]; type_ignores: never[] }

export type Node = Module | Stmt | Expr | Arg | Arguments | Alias | WithItem | ExceptHandler | Keyword | Comprehension;

/** Every node type of the subset: a tree read from a corpus file may only use these. */
export const SUBSET_NODE_TYPES = new Set<string>([
  'Module', 'FunctionDef', 'ClassDef', 'Return', 'Delete', 'Assign', 'AugAssign', 'For', 'While', 'If', 'With',
  'Raise', 'Try', 'Assert', 'Import', 'ImportFrom', 'Global', 'Nonlocal', 'Expr', 'Pass', 'Break', 'Continue',
  'Constant', 'Name', 'Attribute', 'Subscript', 'Slice', 'Starred', 'List', 'Tuple', 'Dict', 'Set', 'Call',
  'keyword', 'BinOp', 'UnaryOp', 'BoolOp', 'Compare', 'IfExp', 'Lambda', 'comprehension', 'ListComp', 'SetComp',
  'GeneratorExp', 'DictComp', 'arg', 'arguments', 'alias', 'withitem', 'ExceptHandler',
  'Load', 'Store', 'Del', 'And', 'Or', 'Add', 'Sub', 'Mult', 'MatMult', 'Div', 'Mod', 'Pow', 'LShift', 'RShift',
  'BitOr', 'BitXor', 'BitAnd', 'FloorDiv', 'Invert', 'Not', 'UAdd', 'USub', 'Eq', 'NotEq', 'Lt', 'LtE', 'Gt',
  'GtE', 'Is', 'IsNot', 'In', 'NotIn',
]);

// ---------------------------------------------------------------------------------------------------
// Builders: the generator writes programs with these, never with strings.

const LOAD: ExprContext = { _type: 'Load' };
const STORE: ExprContext = { _type: 'Store' };

export const py = {
  module: (body: Stmt[]): Module => ({ _type: 'Module', body, type_ignores: [] }),
  name: (id: string): Name => ({ _type: 'Name', id, ctx: LOAD }),
  store: (id: string): Name => ({ _type: 'Name', id, ctx: STORE }),
  delName: (id: string): Name => ({ _type: 'Name', id, ctx: { _type: 'Del' } }),
  /** An int literal; negative values become `-n` (UnaryOp), exactly as `ast.parse` reads them. */
  int: (n: number | bigint): Expr => {
    const v = BigInt(n);
    const lit: Constant = { _type: 'Constant', value: { $int: (v < 0n ? -v : v).toString() }, kind: null };
    return v < 0n ? { _type: 'UnaryOp', op: { _type: 'USub' }, operand: lit } : lit;
  },
  float: (x: number): Expr => {
    const lit: Constant = { _type: 'Constant', value: { $float: pyFloatRepr(Math.abs(x)) }, kind: null };
    return x < 0 || Object.is(x, -0) ? { _type: 'UnaryOp', op: { _type: 'USub' }, operand: lit } : lit;
  },
  str: (s: string): Constant => ({ _type: 'Constant', value: s, kind: null }),
  bytes: (b: Uint8Array): Constant => ({ _type: 'Constant', value: { $bytes: Buffer.from(b).toString('hex') }, kind: null }),
  none: (): Constant => ({ _type: 'Constant', value: null, kind: null }),
  bool: (b: boolean): Constant => ({ _type: 'Constant', value: b, kind: null }),
  attr: (value: Expr, attr: string): Attribute => ({ _type: 'Attribute', value, attr, ctx: LOAD }),
  attrStore: (value: Expr, attr: string): Attribute => ({ _type: 'Attribute', value, attr, ctx: STORE }),
  sub: (value: Expr, slice: Expr): Subscript => ({ _type: 'Subscript', value, slice, ctx: LOAD }),
  subStore: (value: Expr, slice: Expr): Subscript => ({ _type: 'Subscript', value, slice, ctx: STORE }),
  subDel: (value: Expr, slice: Expr): Subscript => ({ _type: 'Subscript', value, slice, ctx: { _type: 'Del' } }),
  slice: (lower: Expr | null, upper: Expr | null, step: Expr | null = null): Slice => ({ _type: 'Slice', lower, upper, step }),
  call: (func: Expr, args: Expr[] = [], keywords: Keyword[] = []): Call => ({ _type: 'Call', func, args, keywords }),
  kw: (arg: string, value: Expr): Keyword => ({ _type: 'keyword', arg, value }),
  /** `obj.method(args)` */
  method: (obj: Expr, method: string, args: Expr[] = [], keywords: Keyword[] = []): Call => py.call(py.attr(obj, method), args, keywords),
  list: (elts: Expr[]): List => ({ _type: 'List', elts, ctx: LOAD }),
  tuple: (elts: Expr[]): Tuple => ({ _type: 'Tuple', elts, ctx: LOAD }),
  tupleStore: (elts: Expr[]): Tuple => ({ _type: 'Tuple', elts, ctx: STORE }),
  dict: (entries: [Expr, Expr][]): Dict => ({ _type: 'Dict', keys: entries.map(([k]) => k), values: entries.map(([, v]) => v) }),
  set: (elts: Expr[]): PySet => ({ _type: 'Set', elts }),
  bin: (left: Expr, op: OperatorName, right: Expr): BinOp => ({ _type: 'BinOp', left, op: { _type: op }, right }),
  unary: (op: UnaryOpName, operand: Expr): UnaryOp => ({ _type: 'UnaryOp', op: { _type: op }, operand }),
  and: (...values: Expr[]): BoolOp => ({ _type: 'BoolOp', op: { _type: 'And' }, values }),
  or: (...values: Expr[]): BoolOp => ({ _type: 'BoolOp', op: { _type: 'Or' }, values }),
  cmp: (left: Expr, op: CmpOpName, right: Expr): Compare => ({ _type: 'Compare', left, ops: [{ _type: op }], comparators: [right] }),
  ifExp: (test: Expr, body: Expr, orelse: Expr): IfExp => ({ _type: 'IfExp', test, body, orelse }),
  lambda: (params: string[], body: Expr): Lambda => ({ _type: 'Lambda', args: py.arguments(params), body }),
  comp: (target: Expr, iter: Expr, ifs: Expr[] = []): Comprehension => ({ _type: 'comprehension', target, iter, ifs, is_async: 0 }),
  listComp: (elt: Expr, generators: Comprehension[]): ListComp => ({ _type: 'ListComp', elt, generators }),
  setComp: (elt: Expr, generators: Comprehension[]): SetComp => ({ _type: 'SetComp', elt, generators }),
  genExp: (elt: Expr, generators: Comprehension[]): GeneratorExp => ({ _type: 'GeneratorExp', elt, generators }),
  dictComp: (key: Expr, value: Expr, generators: Comprehension[]): DictComp => ({ _type: 'DictComp', key, value, generators }),
  starred: (value: Expr): Starred => ({ _type: 'Starred', value, ctx: LOAD }),
  arg: (name: string): Arg => ({ _type: 'arg', arg: name, annotation: null, type_comment: null }),
  arguments: (params: string[], defaults: Expr[] = []): Arguments => ({
    _type: 'arguments',
    posonlyargs: [],
    args: params.map((p) => py.arg(p)),
    vararg: null,
    kwonlyargs: [],
    kw_defaults: [],
    kwarg: null,
    defaults,
  }),

  // statements
  expr: (value: Expr): ExprStmt => ({ _type: 'Expr', value }),
  assign: (target: Expr, value: Expr): Assign => ({ _type: 'Assign', targets: [target], value, type_comment: null }),
  augAssign: (target: Name | Attribute | Subscript, op: OperatorName, value: Expr): AugAssign => ({ _type: 'AugAssign', target, op: { _type: op }, value }),
  def: (name: string, params: string[], body: Stmt[], decorators: Expr[] = []): FunctionDef => ({
    _type: 'FunctionDef',
    name,
    args: py.arguments(params),
    body,
    decorator_list: decorators,
    returns: null,
    type_comment: null,
    type_params: [],
  }),
  cls: (name: string, bases: Expr[], body: Stmt[]): ClassDef => ({ _type: 'ClassDef', name, bases, keywords: [], body, decorator_list: [], type_params: [] }),
  ret: (value: Expr | null = null): Return => ({ _type: 'Return', value }),
  del: (...targets: Expr[]): Delete => ({ _type: 'Delete', targets }),
  for: (target: Expr, iter: Expr, body: Stmt[], orelse: Stmt[] = []): For => ({ _type: 'For', target, iter, body, orelse, type_comment: null }),
  while: (test: Expr, body: Stmt[]): While => ({ _type: 'While', test, body, orelse: [] }),
  if: (test: Expr, body: Stmt[], orelse: Stmt[] = []): If => ({ _type: 'If', test, body, orelse }),
  with: (items: [Expr, Expr | null][], body: Stmt[]): With => ({
    _type: 'With',
    items: items.map(([context_expr, optional_vars]) => ({ _type: 'withitem', context_expr, optional_vars })),
    body,
    type_comment: null,
  }),
  raise: (exc: Expr | null, cause: Expr | null = null): Raise => ({ _type: 'Raise', exc, cause }),
  try: (body: Stmt[], handlers: ExceptHandler[], orelse: Stmt[] = [], finalbody: Stmt[] = []): Try => ({ _type: 'Try', body, handlers, orelse, finalbody }),
  except: (type: Expr | null, name: string | null, body: Stmt[]): ExceptHandler => ({ _type: 'ExceptHandler', type, name, body }),
  assert: (test: Expr, msg: Expr | null = null): Assert => ({ _type: 'Assert', test, msg }),
  import: (...names: string[]): Import => ({ _type: 'Import', names: names.map((name) => ({ _type: 'alias', name, asname: null })) }),
  importFrom: (module: string, names: string[]): ImportFrom => ({ _type: 'ImportFrom', module, names: names.map((name) => ({ _type: 'alias', name, asname: null })), level: 0 }),
  global: (...names: string[]): Global => ({ _type: 'Global', names }),
  nonlocal: (...names: string[]): Nonlocal => ({ _type: 'Nonlocal', names }),
  pass: (): Pass => ({ _type: 'Pass' }),
  break: (): Break => ({ _type: 'Break' }),
  continue: (): Continue => ({ _type: 'Continue' }),
};

/**
 * Python's repr() of a finite non-negative float: the shortest round-trip digits (JS and Python agree on
 * those), laid out as CPython's float_repr does: fixed notation while the decimal point position `decpt`
 * satisfies -4 < decpt <= 16, else scientific with a signed exponent of at least two digits.
 */
export function pyFloatRepr(x: number): string {
  if (!Number.isFinite(x) || x < 0) throw new Error(`float literal must be finite and non-negative, got ${x}`);
  if (x === 0) return '0.0';
  const [mantissa = '', exp = '0'] = x.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const decpt = Number(exp) + 1;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `0.${'0'.repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const e = decpt - 1;
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
