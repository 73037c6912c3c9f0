// The dark theme, a chunk of its own: only a dark-mode user loads it. naive-ui's dark common
// colours, from which every component derives its own, and its dark tags; the few light
// colours that do not follow the common ones are set in theme.ts (darkOverrides). Not
// naive-ui's whole `darkTheme`: the dark styles of the login page's components import their
// light styles, and the bundler then splits those out of the login page's chunks into many
// small ones (+3 KB of its 150 KB budget).
// Components that draw others inside them (a modal its card, a number field its input, a
// table its pagination) give those their own light theme, light common colours included, so
// the common colours alone do not reach them: these come with their dark themes.
import {
  commonDark,
  drawerDark,
  dynamicTagsDark,
  inputNumberDark,
  modalDark,
  tagDark,
  type GlobalTheme,
} from 'naive-ui'

export const darkTheme: GlobalTheme = {
  name: 'dark',
  common: commonDark,
  Tag: tagDark,
  Modal: modalDark,
  Drawer: drawerDark,
  InputNumber: inputNumberDark,
  DynamicTags: dynamicTagsDark,
}
