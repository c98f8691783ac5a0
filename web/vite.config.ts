import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The app is served from web/dist by Firebase Hosting (the Hosting emulator locally).
// Each page is its own chunk (React.lazy); Firebase and the charts get chunks of their
// own so that the sign-in screen loads only React, the shell and Firebase Auth.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
});
