// Each policy's line: a colour and a dash pattern (the pattern tells lines apart without
// colour; the legend and the toggles name them).
const COLOURS = [
  "#1b1f24", "#3158c9", "#c96b31", "#2f9e6e", "#a23fb0", "#b8901f", "#3aa7c9",
  "#b03f5a", "#6b7a1f", "#7a4a2a", "#5b6ee1", "#d0487a", "#4a8f8f",
];
const DASHES = [undefined, "8 3", "3 3", "12 4 3 4", "2 5"];

export function lineStyle(index: number): { colour: string; dash: string | undefined } {
  return { colour: COLOURS[index % COLOURS.length] ?? "#1b1f24", dash: DASHES[index % DASHES.length] };
}
