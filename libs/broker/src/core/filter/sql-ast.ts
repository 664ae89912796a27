/** The tree a SQL92 filter expression parses into. `pos` is the 0-based offset of the node's token. */

export type SqlLiteralValue = string | number | boolean | null;
export type SqlComparisonOperator = '=' | '<>' | '>' | '>=' | '<' | '<=';
export type SqlStringOperator = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

export type SqlNode =
  | { readonly kind: 'literal'; readonly value: SqlLiteralValue; readonly pos: number }
  | { readonly kind: 'property'; readonly name: string; readonly pos: number }
  | { readonly kind: 'not'; readonly operand: SqlNode; readonly pos: number }
  | {
      readonly kind: 'logic';
      readonly op: 'AND' | 'OR';
      readonly operands: readonly SqlNode[];
      readonly pos: number;
    }
  | {
      readonly kind: 'compare';
      readonly op: SqlComparisonOperator;
      readonly left: SqlNode;
      readonly right: SqlNode;
      readonly pos: number;
    }
  | {
      readonly kind: 'between';
      readonly negated: boolean;
      readonly value: SqlNode;
      readonly low: SqlNode;
      readonly high: SqlNode;
      readonly pos: number;
    }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly property: string;
      readonly values: readonly string[];
      readonly pos: number;
    }
  | { readonly kind: 'isNull'; readonly negated: boolean; readonly operand: SqlNode; readonly pos: number }
  | {
      readonly kind: 'stringMatch';
      readonly op: SqlStringOperator;
      readonly negated: boolean;
      readonly operand: SqlNode;
      readonly search: string;
      readonly pos: number;
    };

/** Whether a node yields TRUE / FALSE / NULL (RocketMQ's `BooleanExpression`, literals included). */
export function isBooleanNode(node: SqlNode): boolean {
  switch (node.kind) {
    case 'literal':
      return node.value === null || typeof node.value === 'boolean';
    case 'property':
      return false;
    default:
      return true;
  }
}

/** Depth of the tree (a leaf has depth 1). */
export function nodeDepth(node: SqlNode): number {
  switch (node.kind) {
    case 'literal':
    case 'property':
    case 'in':
      return 1;
    case 'not':
    case 'isNull':
    case 'stringMatch':
      return 1 + nodeDepth(node.operand);
    case 'logic':
      return 1 + Math.max(...node.operands.map(nodeDepth));
    case 'compare':
      return 1 + Math.max(nodeDepth(node.left), nodeDepth(node.right));
    case 'between':
      return 1 + Math.max(nodeDepth(node.value), nodeDepth(node.low), nodeDepth(node.high));
  }
}
