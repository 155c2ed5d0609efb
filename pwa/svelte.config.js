// Svelte 5 strips TypeScript types itself, so no preprocessor is needed.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {};
