declare const Bun: { nanoseconds(): number };
