// The registers as a tree by `/` segments with subtree counts; rows exist only for expanded folders.

export interface TreeNode {
  /** The segments up to this node joined by `/`: equal to the register name when `hasRegister`. */
  readonly path: string;
  readonly label: string;
  readonly depth: number;
  readonly parent: TreeNode | null;
  readonly children: Map<string, TreeNode>;
  /** Registers in this subtree, this node's own included. */
  count: number;
  hasRegister: boolean;
  /** Children sorted by label, built when the folder is first shown and dropped when it changes. */
  sorted: TreeNode[] | null;
}

export interface Row {
  readonly node: TreeNode;
  readonly expanded: boolean;
}

function node(path: string, label: string, parent: TreeNode | null): TreeNode {
  return {
    path,
    label,
    depth: parent ? parent.depth + 1 : -1,
    parent,
    children: new Map(),
    count: 0,
    hasRegister: false,
    sorted: null,
  };
}

/** Folders of at most this many registers open by themselves until the user says otherwise. */
const AUTO_OPEN = 50;

export class RegisterTree {
  readonly root: TreeNode = node("", "", null);
  /**
   * @param choices the user's explicit open/closed choices by path: pass the same map to every tree
   *   of a view, so that they outlive rebuilds (a new filter, a resync).
   */
  constructor(
    names: Iterable<string> = [],
    readonly choices = new Map<string, boolean>(),
  ) {
    for (const n of names) this.insert(n);
  }

  get size(): number {
    return this.root.count;
  }

  insert(name: string): void {
    let at = this.root;
    const segments = name.split("/");
    for (let i = 0; i < segments.length; i++) {
      const label = segments[i]!;
      at.count++;
      let child = at.children.get(label);
      if (!child) {
        child = node(i === 0 ? label : `${at.path}/${label}`, label, at);
        at.children.set(label, child);
        at.sorted = null;
      }
      at = child;
    }
    if (at.hasRegister) {
      // Already there: undo the counts added on the way down.
      for (let n: TreeNode | null = at.parent; n; n = n.parent) n.count--;
      return;
    }
    at.hasRegister = true;
    at.count++;
  }

  remove(name: string): void {
    const found = this.find(name);
    if (!found?.hasRegister) return;
    found.hasRegister = false;
    for (let n: TreeNode | null = found; n; n = n.parent) n.count--;
    // Prune folders left empty.
    let n: TreeNode = found;
    while (n.parent && n.count === 0) {
      n.parent.children.delete(n.label);
      n.parent.sorted = null;
      n = n.parent;
    }
  }

  find(path: string): TreeNode | undefined {
    let at: TreeNode | undefined = this.root;
    for (const label of path.split("/")) {
      at = at.children.get(label);
      if (!at) return undefined;
    }
    return at;
  }

  isOpen(n: TreeNode): boolean {
    return this.choices.get(n.path) ?? (n.count <= AUTO_OPEN || this.root.count <= AUTO_OPEN * 4);
  }

  /** The visible rows, depth first; closed folders contribute themselves only. Bounded by `limit` rows. */
  rows(limit = 2_000_000): Row[] {
    const out: Row[] = [];
    const walk = (parent: TreeNode) => {
      parent.sorted ??= [...parent.children.values()].sort((a, b) =>
        a.label < b.label ? -1 : a.label > b.label ? 1 : 0,
      );
      for (const child of parent.sorted) {
        if (out.length >= limit) return;
        const open = child.children.size > 0 && this.isOpen(child);
        out.push({ node: child, expanded: open });
        if (open) walk(child);
      }
    };
    walk(this.root);
    return out;
  }

  /** Opens every folder above `path`, so that its row is shown. */
  reveal(path: string): void {
    for (let n = this.find(path)?.parent; n && n !== this.root; n = n.parent) this.choices.set(n.path, true);
  }
}
