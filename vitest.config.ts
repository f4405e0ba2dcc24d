import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // CI also writes vitest's counts to a file that .ci/run turns into "N passed, N failed".
    reporters: process.env.CI === "true" ? ["default", ["json", { outputFile: ".vitest/results.json" }]] : ["default"]
  }
})
