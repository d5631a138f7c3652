// Files embedded as text by Bun's bundler (`import x from "../f.txt" with { type: "text" }`).
declare module "*.txt" {
  const text: string;
  export default text;
}
