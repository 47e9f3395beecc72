/**
 * Finds `any` in the types of a module's exports: follows re-exports, walks classes' public
 * members, functions' signatures, type aliases and interfaces, and inferred types of values. Types
 * declared outside the checked project (the standard library, dependencies) are not walked into, but
 * their type arguments are, so `Arbitrary<any>` is found while `Parameters<F>` is not.
 */
import ts from "typescript";

/** One export whose type mentions `any`, with the path through the type where it was found. */
export interface AnyFinding {
  exportName: string;
  path: string;
}

const isExternal = (decl: ts.Node): boolean => {
  const file = decl.getSourceFile();
  return file.isDeclarationFile && (file.fileName.includes("/node_modules/") || /\/lib\.[^/]*\.d\.ts$/.test(file.fileName));
};

const isPublicMember = (decl: ts.Declaration): boolean => {
  const name = ts.getNameOfDeclaration(decl);
  if (name !== undefined && ts.isPrivateIdentifier(name)) return false;
  const flags = ts.getCombinedModifierFlags(decl);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0;
};

/** Every `any` reachable from the exports of `moduleFile`, one finding per export (the first path found). */
export function findAnyInExports(program: ts.Program, moduleFile: string): AnyFinding[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(moduleFile);
  if (source === undefined) throw new Error(`public_types: ${moduleFile} is not part of the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new Error(`public_types: ${moduleFile} is not a module`);
  const findings: AnyFinding[] = [];

  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const seen = new Set<ts.Type>();
    const seenSymbols = new Set<ts.Symbol>();
    let found: string | undefined;

    const visitSignature = (sig: ts.Signature, path: string): void => {
      for (const tp of sig.getTypeParameters() ?? []) visitType(tp, `${path}<${tp.symbol.name}>`);
      for (const param of sig.getParameters()) visitSymbol(param, `${path}(${param.name})`);
      visitType(sig.getReturnType(), `${path} => return`);
    };

    const visitSymbol = (symbol: ts.Symbol, path: string): void => {
      if (found !== undefined || seenSymbols.has(symbol)) return;
      seenSymbols.add(symbol);
      const decl = symbol.valueDeclaration ?? symbol.declarations?.[0];
      if (decl === undefined) return;
      visitType(checker.getTypeOfSymbolAtLocation(symbol, decl), path);
    };

    const visitType = (type: ts.Type, path: string): void => {
      if (found !== undefined || seen.has(type)) return;
      seen.add(type);
      if (type.flags & ts.TypeFlags.Any) {
        found = path;
        return;
      }
      for (const arg of type.aliasTypeArguments ?? []) visitType(arg, `${path}<…>`);
      if (type.isUnionOrIntersection()) {
        for (const t of type.types) visitType(t, path);
        return;
      }
      if (type.flags & ts.TypeFlags.TypeParameter) {
        const constraint = checker.getBaseConstraintOfType(type);
        if (constraint !== undefined && constraint !== type) visitType(constraint, `${path} extends`);
        return;
      }
      if (type.flags & ts.TypeFlags.Index) {
        visitType((type as ts.IndexType).type, `${path} keyof`);
        return;
      }
      if (type.flags & ts.TypeFlags.IndexedAccess) {
        const t = type as ts.IndexedAccessType;
        visitType(t.objectType, path);
        visitType(t.indexType, `${path}[]`);
        return;
      }
      if (type.flags & ts.TypeFlags.Conditional) {
        const t = type as ts.ConditionalType;
        visitType(t.checkType, `${path} (check)`);
        const root = t.root.node;
        if (isExternal(root)) return; // e.g. ReturnType<F>: its type arguments are visited above
        visitType(t.extendsType, `${path} (extends)`);
        visitType(checker.getTypeFromTypeNode(root.trueType), `${path} (true)`);
        visitType(checker.getTypeFromTypeNode(root.falseType), `${path} (false)`);
        return;
      }
      if (!(type.flags & ts.TypeFlags.Object)) return;
      const objectType = type as ts.ObjectType;
      if (objectType.objectFlags & ts.ObjectFlags.Reference) {
        for (const arg of checker.getTypeArguments(type as ts.TypeReference)) visitType(arg, `${path}<…>`);
      }
      const decls = type.symbol?.declarations ?? [];
      if (decls.length > 0 && decls.every(isExternal)) return;
      if (objectType.objectFlags & ts.ObjectFlags.Mapped) {
        const mapped = type as ts.ObjectType & { typeParameter?: ts.TypeParameter };
        const decl = decls[0];
        if (decl !== undefined && ts.isMappedTypeNode(decl) && decl.type !== undefined) {
          visitType(checker.getTypeFromTypeNode(decl.type), `${path} (mapped)`);
        }
        if (mapped.typeParameter !== undefined) visitType(mapped.typeParameter, `${path} (key)`);
        return;
      }
      for (const sig of type.getCallSignatures()) visitSignature(sig, path);
      for (const sig of type.getConstructSignatures()) visitSignature(sig, `new ${path}`);
      for (const info of checker.getIndexInfosOfType(type)) visitType(info.type, `${path}[key]`);
      for (const prop of checker.getPropertiesOfType(type)) {
        const decl = prop.valueDeclaration ?? prop.declarations?.[0];
        if (decl !== undefined && (!isPublicMember(decl) || isExternal(decl))) continue;
        visitSymbol(prop, `${path}.${prop.name}`);
      }
    };

    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = target.valueDeclaration ?? target.declarations?.[0];
    if (decl !== undefined) {
      if (target.flags & ts.SymbolFlags.Value) visitType(checker.getTypeOfSymbolAtLocation(target, decl), exported.name);
      if (target.flags & ts.SymbolFlags.Type) {
        const declared = checker.getDeclaredTypeOfSymbol(target);
        visitType(declared, exported.name);
        if (target.flags & ts.SymbolFlags.TypeAlias && ts.isTypeAliasDeclaration(decl)) {
          visitType(checker.getTypeFromTypeNode(decl.type), exported.name);
        }
      }
    }
    if (found !== undefined) findings.push({ exportName: exported.name, path: found });
  }
  return findings;
}
