/** Messages between the commit log and the segment allocator thread. */
export type AllocatorRequest =
  | { readonly op: 'allocate'; readonly path: string; readonly size: number }
  | { readonly op: 'abort'; readonly path: string };

export type AllocatorReply =
  | { readonly type: 'ready'; readonly path: string }
  | { readonly type: 'failed'; readonly path: string; readonly message: string };
