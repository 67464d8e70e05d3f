/**
 * jsdom has no layout, so no ResizeObserver: Svelte's bind:clientWidth/clientHeight need one
 * to subscribe. This stand-in never fires, which is what a layout-less DOM would report; the
 * components fall back to their default sizes.
 */
if (typeof globalThis.ResizeObserver === 'undefined') {
  globalThis.ResizeObserver = class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  };
}
