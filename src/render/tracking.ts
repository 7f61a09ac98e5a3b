// Line tracking for nunjucks. The stock compiler sets its `lineno`/`colno` variables only before function calls,
// so an error raised inside a member lookup (`pillar.a.b` on a strict proxy) or a filter reports line 0. This
// patches the process-wide nunjucks Compiler once so those two expression kinds record their position as well,
// exactly the way nunjucks does for calls: `(lineno = N, colno = M, <expr>)`; include/import/extends tags set
// the same variables before they load a template. Generated code is otherwise
// unchanged; no other nunjucks behaviour is touched.
import nunjucks from 'nunjucks';

interface CompilerNode {
  lineno: number;
  colno: number;
}
interface CompilerProto {
  _emit(code: string): void;
  compileLookupVal(node: CompilerNode, frame: unknown): void;
  compileFilter(node: CompilerNode, frame: unknown): void;
  compileInclude(node: CompilerNode, frame: unknown): void;
  compileImport(node: CompilerNode, frame: unknown): void;
  compileFromImport(node: CompilerNode, frame: unknown): void;
  compileExtends(node: CompilerNode, frame: unknown): void;
  _emitLine(code: string): void;
  __orchLineTracking?: boolean;
}

/** Patch the nunjucks compiler (idempotent). */
export function enableLineTracking(): void {
  const compiler = (nunjucks as unknown as { compiler: { Compiler: { prototype: CompilerProto } } }).compiler;
  const proto = compiler.Compiler.prototype;
  if (proto.__orchLineTracking) return;
  for (const method of ['compileLookupVal', 'compileFilter'] as const) {
    const original = proto[method];
    proto[method] = function (this: CompilerProto, node: CompilerNode, frame: unknown): void {
      this._emit(`(lineno = ${Number(node.lineno) || 0}, colno = ${Number(node.colno) || 0}, `);
      original.call(this, node, frame);
      this._emit(')');
    };
  }
  // Statements that load another template: a refused or missing template is reported at its tag's line.
  for (const method of ['compileInclude', 'compileImport', 'compileFromImport', 'compileExtends'] as const) {
    const original = proto[method];
    proto[method] = function (this: CompilerProto, node: CompilerNode, frame: unknown): void {
      this._emitLine(`lineno = ${Number(node.lineno) || 0}; colno = ${Number(node.colno) || 0};`);
      original.call(this, node, frame);
    };
  }
  proto.__orchLineTracking = true;
}
