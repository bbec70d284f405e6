export const demoEntities: Function[] = []
