// Stylesheets are bundled by esbuild into the page's CSS file; importing one yields nothing.
declare module '*.css';
