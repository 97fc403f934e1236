// A modal confirmation (native <dialog>: focus trap, Escape to cancel) that answers a promise.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

interface Ask {
  readonly title: string;
  readonly body: ComponentChildren;
  readonly action: string;
  readonly danger?: boolean;
  readonly resolve: (ok: boolean) => void;
}

export type ConfirmFn = (title: string, body: ComponentChildren, action: string, danger?: boolean) => Promise<boolean>;

/** Returns the dialog element to render and the function that opens it. */
export function useConfirm(): [ComponentChildren, ConfirmFn] {
  const [ask, setAsk] = useState<Ask | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (ask && d && !d.open) d.showModal();
  }, [ask]);
  const answer = (ok: boolean) => {
    ref.current?.close();
    ask?.resolve(ok);
    setAsk(null);
  };
  const element = ask ? (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        answer(false);
      }}
    >
      <h2 id="confirm-title">{ask.title}</h2>
      <div class="confirm-body">{ask.body}</div>
      <div class="confirm-actions">
        <button type="button" onClick={() => answer(false)}>
          Cancel
        </button>
        <button type="button" class={ask.danger ? "danger" : "primary"} onClick={() => answer(true)} autofocus>
          {ask.action}
        </button>
      </div>
    </dialog>
  ) : null;
  const confirm: ConfirmFn = (title, body, action, danger = false) =>
    new Promise((resolve) => setAsk({ title, body, action, danger, resolve }));
  return [element, confirm];
}
