import { didYouMean } from "../errors";
import type { ResolvedNode } from "./model";
import { childPath, type Problems } from "./problems";
import type { NodeSpec } from "./types";

/**
 * Checks that transforms name fields the node really has: a `rename` of a field that does not
 * exist is almost always a typo that would silently leave the field unrenamed.
 */
export function checkFieldReferences(node: ResolvedNode, spec: NodeSpec, problems: Problems): void {
  const transformPath = childPath(spec.path, "transform");
  const sourceNames = [...node.columns.map((c) => c.name), ...spec.children.map((c) => c.label)];
  const fieldNames = [
    ...node.columns.map((c) => c.field),
    ...spec.children.map((c) => spec.transform.rename[c.label] ?? c.label),
  ];
  const known = new Set([...sourceNames, ...fieldNames]);

  for (const from of Object.keys(spec.transform.rename)) {
    if (!sourceNames.includes(from)) {
      problems.add(
        childPath(childPath(transformPath, "rename"), from),
        `rename names "${from}", which is not a column or child of this node${didYouMean(from, sourceNames)}`,
      );
    }
  }
  for (const field of Object.keys(spec.transform.replace)) {
    if (!known.has(field)) {
      problems.add(
        childPath(childPath(transformPath, "replace"), field),
        `replace names "${field}", which is not a field of this node${didYouMean(field, known)}`,
      );
    }
  }
  const destinations = new Set(spec.transform.concat.map((c) => c.destination));
  spec.transform.move.forEach((move, i) => {
    if (known.has(move.column) || destinations.has(move.column)) return;
    const path =
      spec.transform.move.length > 1
        ? childPath(childPath(transformPath, "move"), i)
        : childPath(transformPath, "move");
    problems.add(
      childPath(path, "column"),
      `move names "${move.column}", which is not a field of this node${didYouMean(move.column, known)}`,
    );
  });
}
